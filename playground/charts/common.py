"""Figure helpers shared by the labs.

A grid of many small images (filters, feature maps) is drawn as ONE heatmap of a tiled mosaic
with NaN gaps: ~20x faster to build and far smoother in the browser than one subplot per tile.

Figures that are rebuilt on every refresh (the live training charts, the mosaics) are built
with ``fast_figure``: plain dicts, without plotly's per-property validation.
"""
from __future__ import annotations

import functools
import math
import unicodedata
from typing import Optional, Sequence

import numpy as np

# Imported whole before any figure is built: plotly looks for pandas in sys.modules, and when the
# first import of pandas runs in one session's thread, another session's figure would find it
# half-initialised ("partially initialized module 'pandas' has no attribute 'Series'").
import pandas  # noqa: F401
import plotly.colors
import plotly.graph_objects as go

from playground.i18n import _

DIVERGING = "RdBu_r"   # signed values (filter responses, weights): blue < 0 < red
SEQUENTIAL = "Greys_r"  # images and non-negative activations


@functools.lru_cache(maxsize=None)
def scale_pairs(name: str) -> tuple:
    """A named plotly colour scale ("RdBu_r") as explicit (position, colour) pairs.

    What plotly's validation would put in the figure: plotly.js itself knows only a few scale
    names, and no reversed ("_r") ones.
    """
    return tuple((float(pos), colour) for pos, colour in plotly.colors.get_colorscale(name))


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A go.Figure made from plain dicts, skipping plotly's per-property validation.

    Validation costs ~4 ms for one heatmap and ~30 ms for two panels of curves; a live chart is
    rebuilt twice a second for every viewer of every run, on the server's one GIL. The dicts
    must already be what plotly.js reads: explicit colour scales (``scale_pairs``), nested
    dicts rather than magic underscores (``marker=dict(color=...)``, not ``marker_color``),
    titles as ``dict(text=...)``. tests/test_charts.py checks every such figure against
    plotly's validators, so a misspelt key fails a test instead of being dropped silently.
    """
    return go.Figure(data=data, layout=layout, _validate=False)


def subplot_grid(rows: int, cols: int, titles: Sequence[str] = (),
                 horizontal_spacing: float = 0.2, vertical_spacing: float = 0.3) -> dict:
    """Layout axes (and title annotations) of a rows × cols grid of panels, placed as
    ``plotly.subplots.make_subplots`` places them, for ``fast_figure``.

    Panel k = (row - 1) * cols + col (1-based) uses axes "x{k}"/"y{k}" (plain "x"/"y" for
    k = 1): give its traces ``**panel_axes(k)``. Returns a dict to merge into the layout.
    """
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    layout: dict = {}
    annotations = []
    for k in range(1, rows * cols + 1):
        r, c = divmod(k - 1, cols)
        x0 = c * (width + horizontal_spacing)
        y1 = 1.0 - r * (height + vertical_spacing)
        suffix = "" if k == 1 else str(k)
        layout[f"xaxis{suffix}"] = dict(domain=[x0, x0 + width], anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(domain=[y1 - height, y1], anchor=f"x{suffix}")
        if k <= len(titles) and titles[k - 1]:
            annotations.append(dict(text=titles[k - 1], x=x0 + width / 2, y=y1, xref="paper",
                                    yref="paper", xanchor="center", yanchor="bottom",
                                    showarrow=False, font=dict(size=16)))
    layout["annotations"] = annotations
    return layout


def panel_axes(k: int) -> dict:
    """The xaxis/yaxis of panel k (1-based) of a ``subplot_grid``, for a trace dict."""
    return dict(xaxis="x", yaxis="y") if k == 1 else dict(xaxis=f"x{k}", yaxis=f"y{k}")


def grid_columns(n: int) -> int:
    """Columns of a near-square grid of n tiles, wider than tall (ceil(sqrt(1.5 n)))."""
    return max(1, math.ceil(math.sqrt(n * 1.5)))


def mosaic(tiles: np.ndarray, ncols: Optional[int] = None, gap: int = 1,
           normalize: bool = False) -> np.ndarray:
    """(N, h, w) float -> (rows*(h+gap)-gap, cols*(w+gap)-gap) float32 with NaN between tiles.

    ``normalize`` rescales each tile to [0, 1] on its own (for filters whose scales differ).
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    if tiles.ndim != 3:
        raise ValueError(f"tiles must be (N, h, w), got shape {tiles.shape}")
    n, h, w = tiles.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    nrows = max(1, math.ceil(n / ncols))
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        tile = tiles[i]
        if normalize:
            lo, hi = np.nanmin(tile), np.nanmax(tile)
            tile = (tile - lo) / (hi - lo) if hi > lo else np.zeros_like(tile)
        r, c = divmod(i, ncols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tile
    return out


def image_layout(title: str, height: int, uirevision: str,
                 margin: Optional[dict] = None) -> dict:
    """Layout of a picture drawn as a heatmap: square pixels, row 0 on top, no ticks."""
    layout = dict(height=height, margin=margin or dict(l=10, r=10, t=34, b=10),
                  uirevision=uirevision or title or "image",
                  yaxis=dict(autorange="reversed", scaleanchor="x", showticklabels=False,
                             showgrid=False, zeroline=False),
                  xaxis=dict(showticklabels=False, showgrid=False, zeroline=False,
                             constrain="domain"))
    if title:
        layout["title"] = dict(text=title)
    return layout


def mosaic_figure(tiles: np.ndarray, ncols: Optional[int] = None, *, title: str = "",
                  colorscale: str = DIVERGING, symmetric: bool = True,
                  normalize: bool = False, height: int = 360,
                  labels: Optional[Sequence[str]] = None,
                  uirevision: str = "mosaic", hovertemplate: Optional[str] = None) -> go.Figure:
    """One heatmap showing N tiles in a grid; symmetric colour range around 0 when signed.

    ``tiles``: (N, h, w) float; ``ncols`` defaults to a near-square grid (ceil(sqrt(N))).
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    grid = mosaic(tiles, ncols, normalize=normalize)
    finite = grid[np.isfinite(grid)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if symmetric and not normalize:
        bound = max(abs(lo), abs(hi)) or 1.0
        lo, hi = -bound, bound
    n, h, w = tiles.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    annotations = []
    if labels:
        for i, label in enumerate(labels[:n]):
            r, c = divmod(i, ncols)
            annotations.append(dict(x=c * (w + 1) + (w - 1) / 2, y=r * (h + 1) - 0.9,
                                    text=label, showarrow=False, font=dict(size=10)))
    heatmap = dict(type="heatmap", z=grid, colorscale=scale_pairs(colorscale), zmin=lo,
                   zmax=hi, hoverongaps=False, showscale=True, colorbar=dict(thickness=10))
    if hovertemplate:
        heatmap["hovertemplate"] = hovertemplate
    layout = image_layout(title, height, uirevision, margin=dict(l=10, r=10, t=30, b=10))
    layout["annotations"] = annotations
    return fast_figure([heatmap], layout)


def rgb_mosaic(tiles: np.ndarray, ncols: Optional[int] = None, gap: int = 1,
               row_gap: Optional[int] = None) -> np.ndarray:
    """(N, h, w, 3) float in [0, 1] -> uint8 (rows*(h+row_gap)-row_gap, cols*(w+gap)-gap, 3),
    the tiles in a grid on white (the gaps; ``row_gap`` defaults to ``gap``)."""
    row_gap = gap if row_gap is None else row_gap
    tiles = np.clip(np.asarray(tiles, dtype=np.float32), 0.0, 1.0)
    if tiles.ndim != 4 or tiles.shape[3] != 3:
        raise ValueError(f"tiles must be (N, h, w, 3), got shape {tiles.shape}")
    n, h, w, _channels = tiles.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    nrows = max(1, math.ceil(n / ncols))
    out = np.full((nrows * (h + row_gap) - row_gap, ncols * (w + gap) - gap, 3), 255,
                  dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + row_gap):r * (h + row_gap) + h, c * (w + gap):c * (w + gap) + w] = \
            np.rint(tiles[i] * 255.0).astype(np.uint8)
    return out


def display_width(text: str) -> int:
    """Columns ``text`` takes: a wide character (Hangul, CJK) counts two, as it is drawn."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def rgb_mosaic_figure(tiles: np.ndarray, ncols: Optional[int] = None, *, title: str = "",
                      height: int = 360, labels: Optional[Sequence[str]] = None,
                      uirevision: str = "mosaic", hovertemplate: Optional[str] = None
                      ) -> go.Figure:
    """N colour tiles (N, h, w, 3) in [0, 1] as one picture in a grid, a label above each (a
    long "true→predicted" label on two lines, in a white band between the rows)."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w, _channels = tiles.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    labels = [label.replace("→", "→<br>") if display_width(label) > 12 else label
              for label in (labels or [])[:n]]
    row_gap = max(1, h // 2) if labels else 1
    annotations = [dict(x=(i % ncols) * (w + 1) + (w - 1) / 2,
                        y=(i // ncols) * (h + row_gap) - 0.5, yanchor="bottom",
                        text=label, showarrow=False, font=dict(size=10))
                   for i, label in enumerate(labels)]
    image = dict(type="image", z=rgb_mosaic(tiles, ncols, row_gap=row_gap),
                 hovertemplate=hovertemplate or (_("row %{y}, col %{x}: rgb %{z}")
                                                  + "<extra></extra>"))
    layout = image_layout(title, height, uirevision, margin=dict(l=10, r=10, t=30, b=10))
    layout["annotations"] = annotations
    return fast_figure([image], layout)
