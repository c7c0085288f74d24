"""Plotly figures of "Backprop by hand": the forward pass's sliding-window view, used again for
∂L/∂W (the dilated ∂L/∂Y as the window over the padded input) and ∂L/∂X (the flipped kernel over
the framed ∂L/∂Y), and small numbered grids.

Same style as the Shape Lab's window (playground/charts/shape_lab.py): the colours, the padding
cells in grey, the window outlined in orange with its taps marked when they are spread apart,
one cell scale across the panels, numbers in the cells. Built from plain dicts (``fast_figure``).
No streamlit; no maths (the numbers come from playground.core.backprop).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import plotly.graph_objects as go

from playground.charts.common import fast_figure, scale_pairs
from playground.charts.shape_lab import INPUT_SCALE, OUTPUT_SCALE, PAD, WINDOW
from playground.core.backprop import number
from playground.i18n import _

WEIGHT_SCALE = "RdBu_r"   # signed weights and gradients: blue < 0 < red
CROP = "#2ca02c"          # the part of a padded gradient that is the real input's


@dataclass(frozen=True)
class Slide:
    """One position of a window sliding over a grid, and the result cell it makes.

    grid (Hp, Wp) float with ``grey`` (Hp, Wp) bool marking padding or framing zeros; weights
    (kh, kw) float: what the window multiplies by; result (H', W') float; (row, col): the result
    cell shown; its window's top-left is (row·stride[0], col·stride[1]) and its taps are
    ``dilation`` cells apart. ``crop`` (top, left, height, width): the part of the result that is
    kept (∂L/∂X cut out of the padded input's gradient), outlined in green.
    """

    grid: np.ndarray
    grey: np.ndarray
    weights: np.ndarray
    result: np.ndarray
    row: int
    col: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    titles: tuple[str, str, str]
    caption: str
    crop: Optional[tuple[int, int, int, int]] = None


def _texts(z: np.ndarray, mask: Optional[np.ndarray] = None) -> list:
    return [["" if mask is not None and not mask[r, c] else number(z[r, c], 3)
             for c in range(z.shape[1])] for r in range(z.shape[0])]


def _box(top: float, left: float, height: float, width: float, axes: str) -> dict:
    y0, y1, x0, x1 = top - 0.5, top + height - 0.5, left - 0.5, left + width - 0.5
    return dict(type="scatter", mode="lines", x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0],
                line=dict(color=WINDOW, width=4), hoverinfo="skip", showlegend=False,
                **_axes(axes))


def _axes(k: str) -> dict:
    return dict(xaxis=f"x{k}", yaxis=f"y{k}")


def _range(z: np.ndarray, signed: bool) -> tuple[float, float]:
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if signed:
        bound = max(abs(lo), abs(hi)) or 1.0
        return -bound, bound
    return lo, hi if hi > lo else lo + 1.0


def _grid_traces(z: np.ndarray, grey: np.ndarray, axes: str, scale, name: str,
                 signed: bool) -> list[dict]:
    lo, hi = _range(np.where(grey, np.nan, z), signed)
    cell = dict(xgap=2, ygap=2, showscale=False, texttemplate="%{text}", hoverongaps=False,
                **_axes(axes))
    hover = _("row %{y}, col %{x}: %{text}") + "<extra>" + name + "</extra>"
    return [
        dict(type="heatmap", z=np.where(grey, np.nan, z), colorscale=scale, zmin=lo, zmax=hi,
             text=_texts(z, ~grey), textfont=dict(size=13), hovertemplate=hover, name=name,
             **cell),
        dict(type="heatmap", z=np.where(grey, 0.0, np.nan), colorscale=[[0, PAD], [1, PAD]],
             text=_texts(z, grey), textfont=dict(size=12, color="#7f7f7f"),
             hovertemplate=_("zero row %{y}, col %{x}") + "<extra></extra>", name=_("zeros"),
             **cell),
    ]


def slide_figure(slide: Slide, signed_grid: bool = False, height: int = 380) -> go.Figure:
    """Three panels on one cell scale: the grid with the window at (row, col) (taps circled
    when dilated), the window's weights, and the result with the cell made outlined."""
    hp, wp = slide.grid.shape
    kh, kw = slide.weights.shape
    oh, ow = slide.result.shape
    dh, dw = slide.dilation
    top, left = slide.row * slide.stride[0], slide.col * slide.stride[1]
    grid_scale = scale_pairs(WEIGHT_SCALE) if signed_grid else INPUT_SCALE
    data = _grid_traces(slide.grid, slide.grey, "", grid_scale, slide.titles[0], signed_grid)
    data += _grid_traces(slide.weights, np.zeros(slide.weights.shape, bool), "2",
                         scale_pairs(WEIGHT_SCALE), slide.titles[1], True)
    data += _grid_traces(slide.result, np.zeros(slide.result.shape, bool), "3", OUTPUT_SCALE,
                         slide.titles[2], False)
    data.append(_box(top, left, (kh - 1) * dh + 1, (kw - 1) * dw + 1, ""))
    if (dh, dw) != (1, 1):
        data.append(dict(type="scatter", mode="markers", hoverinfo="skip", showlegend=False,
                         x=[left + j * dw for _i in range(kh) for j in range(kw)],
                         y=[top + i * dh for i in range(kh) for _j in range(kw)],
                         marker=dict(color=WINDOW, size=11, symbol="circle-open",
                                     line=dict(width=3))))
    data.append(_box(0, 0, kh, kw, "2"))
    data.append(_box(slide.row, slide.col, 1, 1, "3"))
    if slide.crop:
        ct, cl, ch, cw = slide.crop
        crop = _box(ct, cl, ch, cw, "3")
        crop["line"] = dict(color=CROP, width=3, dash="dash")
        data.append(crop)
    return fast_figure(data, _layout(slide, (hp, wp), (kh, kw), (oh, ow), height=height))


def _layout(slide: Slide, *sizes, height: int) -> dict:
    gap = 0.05
    widths = [w for _h, w in sizes]
    rows = max(h for h, _w in sizes)
    usable = 1 - gap * 2
    layout = dict(height=height, margin=dict(l=10, r=10, t=70, b=10), showlegend=False,
                  plot_bgcolor="white", uirevision="backprop_slide",
                  title=dict(text=slide.caption, x=0.01, y=0.98, font=dict(size=14)))
    axis = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False,
                ticks="", constrain="domain")
    annotations = []
    x0 = 0.0
    for k, ((h, w), title) in enumerate(zip(sizes, slide.titles)):
        suffix = "" if k == 0 else str(k + 1)
        x1 = min(1.0, x0 + usable * w / sum(widths))
        layout[f"xaxis{suffix}"] = dict(domain=[x0, x1], range=[-0.5, w - 0.5],
                                        anchor=f"y{suffix}", **axis)
        layout[f"yaxis{suffix}"] = dict(range=[rows - 0.5, -0.5], scaleanchor=f"x{suffix}",
                                        anchor=f"x{suffix}", **axis)
        annotations.append(dict(text=f"{title} {h}×{w}", x=(x0 + x1) / 2, y=1.0, xref="paper",
                                yref="paper", xanchor="center", yanchor="bottom",
                                showarrow=False, font=dict(size=13)))
        x0 = x1 + gap
    layout["annotations"] = annotations
    return layout


def grids_figure(grids: list[tuple[str, np.ndarray]], height: int = 240,
                 signed: bool = True) -> go.Figure:
    """Small numbered grids side by side on one cell scale, each titled ("∂L/∂Y 2×2" …)."""
    data, widths = [], [g.shape[1] for _t, g in grids]
    rows = max(g.shape[0] for _t, g in grids)
    gap = 0.06
    usable = 1 - gap * (len(grids) - 1)
    layout = dict(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                  plot_bgcolor="white", uirevision="backprop_grids")
    axis = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False,
                ticks="", constrain="domain")
    annotations, x0 = [], 0.0
    for k, (title, grid) in enumerate(grids):
        suffix = "" if k == 0 else str(k + 1)
        grid = np.asarray(grid, dtype=np.float64)
        data += _grid_traces(grid, np.zeros(grid.shape, bool), suffix,
                             scale_pairs(WEIGHT_SCALE) if signed else OUTPUT_SCALE, title,
                             signed)[:1]
        x1 = min(1.0, x0 + usable * grid.shape[1] / sum(widths))
        layout[f"xaxis{suffix}"] = dict(domain=[x0, x1], range=[-0.5, grid.shape[1] - 0.5],
                                        anchor=f"y{suffix}", **axis)
        layout[f"yaxis{suffix}"] = dict(range=[rows - 0.5, -0.5], scaleanchor=f"x{suffix}",
                                        anchor=f"x{suffix}", **axis)
        annotations.append(dict(text=f"{title} {grid.shape[0]}×{grid.shape[1]}",
                                x=(x0 + x1) / 2, y=1.0, xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False,
                                font=dict(size=13)))
        x0 = x1 + gap
    layout["annotations"] = annotations
    return fast_figure(data, layout)
