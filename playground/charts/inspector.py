"""Figures of the Model Inspector: every layer's output, one map or filter large, heat maps
over the picture (a digit in grey, a colour picture in colour). The picture, the class
probabilities and a layer's filters are charts.model's builders, shared with the Live Training
page (imported here for the page).

Grids of feature maps and filters are ONE heatmap mosaic each (charts.common.mosaic); a
feature-map mosaic carries one invisible marker per tile so a click selects that map.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.charts.common import (
    DIVERGING,
    SEQUENTIAL,
    grid_columns,
    image_layout,
    mosaic_figure,
)

# One builder per figure of a model, shared with the Live Training page.
from playground.charts.model import (
    MARGIN,
    digit_figure,
    filters_figure,
    probabilities_figure,
    rgb_filters_figure,
)
from playground.i18n import _

# Transparent where the map is 0, so the digit shows through the weak parts of an overlay.
_HEAT = [[0.0, "rgba(255,255,0,0)"], [0.25, "rgba(255,200,0,0.35)"],
         [0.6, "rgba(255,80,0,0.7)"], [1.0, "rgba(220,0,0,0.9)"]]




def mosaic_height(n: int) -> int:
    """Pixel height of a mosaic of n tiles in ``grid_columns(n)`` columns: 60 px a row plus
    the title, between 220 and 520."""
    rows = -(-n // grid_columns(n))
    return int(min(520, max(220, 60 + rows * 60)))


def class_labels(n: int, class_names: Optional[Sequence[str]] = None) -> Optional[list[str]]:
    """Bar labels of an n-unit layer output: the ``class_names`` when there are n of them (the
    last layer), else '0'..'9' for a 10-unit output, None for any other vector."""
    if class_names is not None and len(class_names) == n:
        return [str(name) for name in class_names]
    return [str(i) for i in range(n)] if n == 10 else None


def tile_index(x: float, y: float, tile_shape: tuple[int, int], ncols: int,
               n: int) -> Optional[int]:
    """The tile under heatmap cell (x = column, y = row) of a mosaic with 1-cell gaps, or None."""
    h, w = tile_shape
    col, row = int(round(x)) // (w + 1), int(round(y)) // (h + 1)
    if col >= ncols:
        return None
    index = row * ncols + col
    return index if 0 <= index < n else None






def photo_figure(image: np.ndarray, title: str = "", height: int = 260) -> go.Figure:
    """An (H, W, 3|4) uint8 picture (e.g. the uploaded photo) as it was uploaded."""
    image = np.asarray(image)
    if image.ndim == 2:
        return digit_figure(image.astype(np.float32) / 255.0, title, height)
    fig = go.Figure(go.Image(z=image[..., :3]))
    return fig.update_layout(**image_layout(title, height, title))




def feature_maps_figure(maps: np.ndarray, title: str = "", height: int = 320,
                        selected: Optional[int] = None) -> go.Figure:
    """(H, W, C) layer output -> one mosaic of its C feature maps, shared colour range.

    Non-negative outputs (after ReLU, pooling) are grayscale, signed ones diverging around 0.
    Each tile has a transparent marker at its centre: clicking it selects feature map j
    (``customdata`` = j). ``selected`` draws a box around that tile.
    """
    maps = np.asarray(maps, dtype=np.float32)
    tiles = np.moveaxis(maps, -1, 0)
    n, h, w = tiles.shape
    ncols = grid_columns(n)
    signed = float(maps.min()) < 0
    fig = mosaic_figure(tiles, ncols, title=title, height=height,
                        colorscale=DIVERGING if signed else SEQUENTIAL, symmetric=signed,
                        uirevision=title or "maps")
    fig.update_traces(hovertemplate=_("row %{y}, col %{x}: %{z:.3f}") + "<extra></extra>",
                      selector=dict(type="heatmap"))
    rows = np.arange(n) // ncols
    cols = np.arange(n) % ncols
    xs = cols * (w + 1) + (w - 1) / 2
    ys = rows * (h + 1) + (h - 1) / 2
    hover = [_("feature map {index}: min {low}, max {high}", index=j,
               low=f"{tiles[j].min():.3f}", high=f"{tiles[j].max():.3f}") for j in range(n)]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", customdata=np.arange(n),
                             text=hover, hovertemplate="%{text}<br>" + _("click to enlarge")
                                                       + "<extra></extra>",
                             marker=dict(symbol="square", size=max(6, min(40, 300 // ncols)),
                                         color="rgba(0,0,0,0.01)"),
                             showlegend=False))
    if selected is not None and 0 <= selected < n:
        r, c = divmod(selected, ncols)
        fig.add_shape(type="rect", x0=c * (w + 1) - 0.5, x1=c * (w + 1) + w - 0.5,
                      y0=r * (h + 1) - 0.5, y1=r * (h + 1) + h - 0.5,
                      line=dict(color="#d62728", width=2))
    fig.update_layout(clickmode="event+select", dragmode=False)
    return fig




def filter_detail_figure(kernel: np.ndarray, bias: float, title: str = "",
                         height: int = 300) -> go.Figure:
    """(in_channels, kh, kw) weights of one filter, large; weights written in small kernels."""
    kernel = np.asarray(kernel, dtype=np.float32)
    c, kh, kw = kernel.shape
    ncols = grid_columns(c)
    bias_text = _("bias {value}", value=f"{bias:+.3f}")
    fig = mosaic_figure(kernel, ncols, title=f"{title} · {bias_text}" if title else
                        bias_text, height=height, colorscale=DIVERGING, symmetric=True,
                        uirevision=title or "filter")
    fig.update_traces(hovertemplate=_("row %{y}, col %{x}: %{z:.4f}") + "<extra></extra>",
                      selector=dict(type="heatmap"))
    if c * kh * kw <= 50:  # few enough weights to read them all
        annotations = list(fig.layout.annotations)
        strong = 0.6 * (float(np.abs(kernel).max()) or 1.0)
        for ch in range(c):
            r, col = divmod(ch, ncols)
            for i in range(kh):
                for j in range(kw):
                    annotations.append(dict(x=col * (kw + 1) + j, y=r * (kh + 1) + i,
                                            text=f"{kernel[ch, i, j]:.2f}", showarrow=False,
                                            font=dict(size=11, color="white" if abs(
                                                kernel[ch, i, j]) > strong else "black")))
        fig.update_layout(annotations=annotations)
    return fig


def feature_map_figure(feature_map: np.ndarray, title: str = "",
                       height: int = 300) -> go.Figure:
    """One (H, W) feature map, large, with its value on hover."""
    feature_map = np.asarray(feature_map, dtype=np.float32)
    signed = float(feature_map.min()) < 0
    bound = float(np.abs(feature_map).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=feature_map, colorscale=DIVERGING if signed else SEQUENTIAL,
        zmin=-bound if signed else 0.0, zmax=bound, colorbar=dict(thickness=10),
        hovertemplate=_("row %{y}, col %{x}: %{z:.3f}") + "<extra></extra>"))
    return fig.update_layout(**image_layout(title, height, title))


def vector_figure(values: np.ndarray, title: str = "", height: int = 220,
                  labels: Optional[Sequence[str]] = None) -> go.Figure:
    """A 1-D layer output (Flatten, Dense) as bars, one per unit."""
    values = np.asarray(values, dtype=np.float32).ravel()
    x = list(labels) if labels is not None else list(range(len(values)))
    if values.size == 0 or float(values.min()) >= 0:
        marker = dict(color="#4c72b0", line_width=0)
    else:  # a numeric colour with a two-step scale: much faster than one string per bar
        bound = float(np.abs(values).max()) or 1.0
        marker = dict(color=values, cmin=-bound, cmax=bound, line_width=0,
                      colorscale=[[0, "#c44e52"], [0.5, "#c44e52"], [0.5, "#4c72b0"],
                                  [1, "#4c72b0"]])
    fig = go.Figure(go.Bar(x=x, y=values, marker=marker,
                           hovertemplate=_("unit %{x}: %{y:.4f}") + "<extra></extra>"))
    fig.update_layout(title=title or None, height=height, margin=MARGIN, bargap=0.05,
                      uirevision=title or "vector", xaxis=dict(title=_("unit")),
                      yaxis=dict(title=_("value")))
    if labels is not None:
        fig.update_xaxes(type="category")
    return fig


def overlay_figure(picture: np.ndarray, heat: np.ndarray, title: str = "",
                   height: int = 300) -> go.Figure:
    """An (H, W) heat map in [0, 1] laid over the picture it explains: (H, W) or (H, W, 1)
    grayscale, (H, W, 3) in colour, float in [0, 1] (transparent where the heat is 0)."""
    fig = digit_figure(picture, title, height)
    fig.add_trace(go.Heatmap(z=np.asarray(heat, dtype=np.float32), colorscale=_HEAT, zmin=0,
                             zmax=1, colorbar=dict(thickness=10),
                             hovertemplate=_("row %{y}, col %{x}: %{z:.3f}")
                             + "<extra></extra>"))
    return fig


__all__ = ["class_labels", "digit_figure", "feature_map_figure", "feature_maps_figure",
           "filter_detail_figure", "filters_figure", "grid_columns", "mosaic_height",
           "overlay_figure", "photo_figure", "probabilities_figure", "rgb_filters_figure",
           "tile_index", "vector_figure"]
