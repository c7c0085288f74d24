"""Plotly figures of the Shape Lab: the padded input with the sliding window, and the output.

No streamlit; no math beyond the window's geometry (the numbers come from playground.core.filters
through playground.shape_lab.lab.window).
"""
from __future__ import annotations

from typing import Optional, Protocol, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.i18n import _

WINDOW = "#ff7f0e"     # the sliding window and the output cell it makes
PAD = "#d9d9d9"        # zero-padding cells
UNUSED = "rgba(214, 39, 40, 0.16)"  # rows / columns that no window reaches
INPUT_SCALE = [[0.0, "#f7fbff"], [1.0, "#6baed6"]]
OUTPUT_SCALE = [[0.0, "#fff5eb"], [1.0, "#fd8d3c"]]


def _num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


def _texts(z: np.ndarray, show: bool, mask: Optional[np.ndarray] = None) -> Optional[list]:
    if not show:
        return None
    return [[("" if mask is not None and not mask[r, c] else _num(z[r, c]))
             for c in range(z.shape[1])] for r in range(z.shape[0])]


def _box(top: float, left: float, height: float, width: float) -> tuple[list, list]:
    """Closed outline of cells [top, top+height) × [left, left+width) in cell coordinates."""
    y0, y1, x0, x1 = top - 0.5, top + height - 0.5, left - 0.5, left + width - 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _taps(top: int, left: int, kernel_shape: tuple[int, int], dilation: int):
    kh, kw = kernel_shape
    rows = [top + i * dilation for i in range(kh) for _ in range(kw)]
    cols = [left + j * dilation for _ in range(kh) for j in range(kw)]
    return cols, rows


class SlidingWindow(Protocol):
    """What :func:`window_figure` draws (``playground.shape_lab.lab.Window`` is one)."""

    padded: np.ndarray               # (Hp, Wp) float
    is_pad: np.ndarray               # (Hp, Wp) bool
    output: np.ndarray               # (H', W') float
    kernel: np.ndarray               # (kh, kw): only its shape is drawn
    row: int                         # the output cell shown first
    col: int
    used: tuple[int, int]            # padded rows / cols that some window reaches
    stride: tuple[int, int]
    dilation: int
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    numbered: bool                   # write the values in the cells
    titles: Sequence[str]            # one caption per output cell, row-major
    pad_label: str                   # written in padding cells


def window_figure(win: SlidingWindow, animate: bool = True, height: int = 430) -> go.Figure:
    """Padded input (padding grey, unused rows/cols shaded red) with the window at output cell
    (win.row, win.col), beside the output grid with that cell outlined.

    With ``animate`` every output cell is a frame and a Play button walks the window over the
    input; each frame's title is its entry of ``win.titles``.
    """
    # Built from plain dicts without plotly's per-property validation: the same figure in
    # ~5 ms instead of ~80 ms, which keeps a slider move well under the page's 100 ms budget.
    data = _value_traces(win) + _window_traces(win, win.row, win.col, styled=True)
    layout = _layout(win, height, animate)
    frames = []
    oh, ow = win.output.shape
    if animate and oh * ow > 1:
        frames = _frames(win)
        layout["updatemenus"] = [_play_buttons()]
    return _RawFigure(dict(data=data, layout=layout, frames=frames))


def _value_traces(win: SlidingWindow) -> list[dict]:
    """Three heatmaps: the real input cells, the padding cells, and the output grid."""
    padded = np.asarray(win.padded, dtype=np.float32)
    output = np.asarray(win.output, dtype=np.float32)
    is_pad = win.is_pad
    finite = padded[~is_pad]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    o_lo, o_hi = float(np.min(output)), float(np.max(output))
    cell = dict(xgap=2, ygap=2, showscale=False, texttemplate="%{text}")
    pad_text = ([[win.pad_label if p else "" for p in row] for row in is_pad.tolist()]
                if win.numbered else None)
    return [
        dict(type="heatmap", z=np.where(is_pad, np.nan, padded), colorscale=INPUT_SCALE,
             zmin=lo, zmax=hi if hi > lo else lo + 1, text=_texts(padded, win.numbered, ~is_pad),
             textfont=dict(size=13, color="#08306b"), hoverongaps=False, name=_("input"),
             hovertemplate=_("padded row %{y}, col %{x}: %{z}") + "<extra>" + _("input")
             + "</extra>", **cell),
        dict(type="heatmap", z=np.where(is_pad, 0.0, np.nan), colorscale=[[0, PAD], [1, PAD]],
             text=pad_text, textfont=dict(size=12, color="#7f7f7f"), hoverongaps=False,
             name=_("zero padding"),
             hovertemplate=_("padding at row %{y}, col %{x}") + "<extra>" + _("zero padding")
             + "</extra>", **cell),
        dict(type="heatmap", z=output, colorscale=OUTPUT_SCALE, zmin=o_lo,
             zmax=o_hi if o_hi > o_lo else o_lo + 1, text=_texts(output, win.numbered),
             textfont=dict(size=13, color="#7f2704"), name=_("output"), xaxis="x2", yaxis="y2",
             hovertemplate=_("output row %{y}, col %{x}: %{z}") + "<extra>" + _("output")
             + "</extra>", **cell),
    ]


def _window_traces(win: SlidingWindow, r: int, c: int, styled: bool = False) -> list[dict]:
    """The window's outline, its taps (when dilated) and the output cell (r, c) it makes.
    Frames carry only the coordinates (``styled=False``); the first drawing its styles too."""
    kh, kw = win.kernel.shape[:2]
    d = win.dilation
    top, left = r * win.stride[0], c * win.stride[1]
    wx, wy = _box(top, left, (kh - 1) * d + 1, (kw - 1) * d + 1)
    tx, ty = _taps(top, left, (kh, kw), d) if d > 1 else ([], [])
    ox, oy = _box(r, c, 1, 1)
    traces = [dict(x=wx, y=wy), dict(x=tx, y=ty), dict(x=ox, y=oy)]
    if styled:
        line = dict(color=WINDOW, width=4)
        traces[0].update(type="scatter", mode="lines", line=line, hoverinfo="skip",
                         name=_("window"))
        traces[1].update(type="scatter", mode="markers", hoverinfo="skip", name=_("taps"),
                         marker=dict(color=WINDOW, size=9, symbol="circle-open",
                                     line=dict(width=3)))
        traces[2].update(type="scatter", mode="lines", line=line, hoverinfo="skip",
                         name=_("this output"), xaxis="x2", yaxis="y2")
    return traces


def _unused_shapes(win: SlidingWindow) -> list[dict]:
    """Red rectangles over the padded rows and columns that no window reaches."""
    hp, wp = win.padded.shape
    used_rows, used_cols = win.used
    style = dict(type="rect", xref="x", yref="y", fillcolor=UNUSED,
                 line=dict(color="#d62728", dash="dot", width=1.5))
    shapes_ = []
    if used_rows < hp:
        shapes_.append(dict(x0=-0.5, x1=wp - 0.5, y0=used_rows - 0.5, y1=hp - 0.5, **style))
    if used_cols < wp:
        shapes_.append(dict(x0=used_cols - 0.5, x1=wp - 0.5, y0=-0.5, y1=hp - 0.5, **style))
    return shapes_


def _layout(win: SlidingWindow, height: int, animate: bool) -> dict:
    hp, wp = win.padded.shape
    oh, ow = win.output.shape
    top, bottom, left, right = win.pads
    # Two panels side by side on one scale (same cell size, same rows in range), so the
    # output looks as much smaller than the input as it is.
    gap = 0.06
    split = (1 - gap) * wp / (wp + ow)
    axis = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False, ticks="",
                constrain="domain")
    titles = win.titles
    caption = dict(y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                   showarrow=False, font=dict(size=13))
    return dict(
        height=height, margin=dict(l=10, r=10, t=80 if animate else 60, b=10),
        showlegend=False, shapes=_unused_shapes(win), uirevision="shape_lab_window",
        plot_bgcolor="white",
        title=dict(text=titles[win.row * ow + win.col] if titles else None, x=0.01, y=0.98,
                   font=dict(size=14)),
        xaxis=dict(domain=[0, split], range=[-0.5, wp - 0.5], **axis),
        yaxis=dict(range=[hp - 0.5, -0.5], scaleanchor="x", **axis),
        xaxis2=dict(domain=[split + gap, 1], range=[-0.5, ow - 0.5], anchor="y2", **axis),
        yaxis2=dict(range=[hp - 0.5, -0.5], scaleanchor="x2", anchor="x2", **axis),
        annotations=[
            dict(text=_("Padded input {hp}×{wp}: padding top {top}, bottom {bottom}, "
                        "left {left}, right {right}", hp=hp, wp=wp, top=top, bottom=bottom,
                        left=left, right=right), x=split / 2, **caption),
            dict(text=_("Output {oh}×{ow}", oh=oh, ow=ow), x=(split + gap + 1) / 2,
                 **caption),
        ])


def _frames(win: SlidingWindow) -> list[dict]:
    """One animation frame per output cell: new coordinates for traces 3-5, and its title."""
    oh, ow = win.output.shape
    titles = win.titles
    frames = []
    for k in range(oh * ow):
        frame = dict(data=_window_traces(win, *divmod(k, ow)), traces=[3, 4, 5], name=str(k))
        if titles:
            frame["layout"] = dict(title=dict(text=titles[k]))
        frames.append(frame)
    return frames


def _play_buttons() -> dict:
    return dict(
        type="buttons", direction="left", x=1.0, xanchor="right", y=1.0, yanchor="bottom",
        showactive=False, pad=dict(r=0, t=0, b=24),
        buttons=[
            dict(label=_("▶ Play"), method="animate",
                 args=[None, dict(frame=dict(duration=700, redraw=True), fromcurrent=True,
                                  transition=dict(duration=0), mode="immediate")]),
            dict(label=_("❚❚ Pause"), method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False),
                                    mode="immediate", transition=dict(duration=0))]),
        ])


class _RawFigure(go.Figure):
    """A go.Figure that carries its plain-dict specification untouched until ``to_dict``.

    plotly turns every trace, layout key and animation frame into a validated object: ~20 ms
    for this figure, ~0.7 ms more per frame, i.e. most of the page's 100 ms rerun budget. The
    Shape Lab only ever serialises the figure (st.plotly_chart calls ``to_dict``), so the
    objects are never needed. Read it with ``fig.to_dict()`` (``fig.data`` is empty).

    ``to_dict`` hands out the specification itself, not a copy: the figure is built for one
    ``st.plotly_chart`` call, which only serialises it, and copying it cost ~14 ms a rerun.
    """

    def __init__(self, spec: dict):
        super().__init__()
        self._raw_spec = spec

    def to_dict(self):
        return self._raw_spec
