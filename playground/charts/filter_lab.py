"""Plotly figures of the Filter Lab (no streamlit here).

Pictures and feature maps are sent as ONE PNG per figure (``go.Image`` with a data-URI source):
a 1024×768 response as a heatmap would be ~10 MB of JSON and take seconds to draw; as a PNG it
is ~0.3 MB and ~20 ms. A colour bar comes from an invisible one-point scatter sharing the
image's colour scale. Small matrices (kernels, receptive fields, toy tensors) are heatmaps with
their numbers written in the cells.
"""
from __future__ import annotations

import base64
import functools
import io
import math
from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale

from playground.charts.common import (
    DIVERGING,
    SEQUENTIAL,
    fast_figure,
    mosaic,
    panel_axes,
    scale_pairs,
    subplot_grid,
)
from playground.core.shapes import shape_text
from playground.i18n import _

PICK_POINTS = 48  # clickable points per side on a picture (st.plotly_chart cannot select pixels
                  # of an image or heatmap trace, so an invisible marker grid takes the clicks)


# ----------------------------------------------------------------------------------------------
# Colours
# ----------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _lut(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 lookup table sampled from a plotly colour scale."""
    samples = sample_colorscale(get_colorscale(colorscale), np.linspace(0, 1, 256).tolist(),
                                colortype="tuple")
    return np.clip(np.rint(np.array(samples) * (255 if max(max(samples)) <= 1 else 1)),
                   0, 255).astype(np.uint8)


def value_range(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values (NaN gaps of a mosaic ignored); (0, 0) when none."""
    values = np.asarray(values, dtype=np.float32)
    lo, hi = float(np.min(values)), float(np.max(values))
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())


def colour_limits(values: np.ndarray, signed: Optional[bool] = None) -> tuple[float, float, bool]:
    """(zmin, zmax, signed): symmetric around 0 for signed data, [0, max] (or [min, max])
    otherwise."""
    return _limits(*value_range(values), signed)


def _limits(lo: float, hi: float, signed: Optional[bool]) -> tuple[float, float, bool]:
    if signed is None:
        signed = lo < 0
    if signed:
        bound = max(abs(lo), abs(hi)) or 1.0
        return -bound, bound, True
    if lo >= 0:
        return 0.0, (hi or 1.0), False
    return lo, (hi if hi > lo else lo + 1.0), False


def colorize(values: np.ndarray, zmin: float, zmax: float, colorscale: str) -> np.ndarray:
    """(h, w) float -> (h, w, 3) uint8 through a colour scale; NaN (mosaic gaps) -> white."""
    values = np.asarray(values, dtype=np.float32)
    span = (zmax - zmin) or 1.0
    index = np.subtract(values, np.float32(zmin), dtype=np.float32)
    index *= np.float32(255.0 / span)
    gaps = np.isnan(index)
    has_gaps = bool(gaps.any())
    if has_gaps:
        index[gaps] = 0
    np.clip(index, 0, 255, out=index)
    rgb = np.take(_lut(colorscale), index.astype(np.uint8), axis=0)
    if has_gaps:
        rgb[gaps] = 255
    return rgb


LOSSLESS_MAX_PIXELS = 256 * 256


def _png_uri(pixels: np.ndarray) -> str:
    return _encode_uri(Image.fromarray(pixels))


def _encode_uri(image: Image.Image) -> str:
    """Pixels as a data URI: PNG (exact) for small pictures — MNIST maps, toy tensors — and a
    4:4:4 JPEG at quality 92 above LOSSLESS_MAX_PIXELS, ~7x faster to encode than PNG on a noisy
    1024-pixel filter response and the difference is invisible on screen (values are read from
    the hover and the arithmetic panel, never from the picture)."""
    buffer = io.BytesIO()
    if image.width * image.height <= LOSSLESS_MAX_PIXELS:
        image.save(buffer, format="PNG", compress_level=1)
        kind = "png"
    else:
        image.convert("RGB").save(buffer, format="JPEG", quality=92, subsampling=0)
        kind = "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: float, digits: int = 4) -> str:
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))
    return f"{value:.{digits}g}"


# ----------------------------------------------------------------------------------------------
# Pictures and feature maps
# ----------------------------------------------------------------------------------------------

def _picture_layout(title: str, height: int, width_px: int, height_px: int) -> dict:
    # One nested dict for go.Figure(layout=...): plotly's update_* calls cost ~10 ms each here.
    return dict(title=dict(text=title, font=dict(size=13)), height=height,
                margin=dict(l=4, r=4, t=48, b=4), uirevision="picture", plot_bgcolor="white",
                showlegend=False, dragmode="pan", clickmode="event+select",
                xaxis=dict(visible=False, range=[-0.5, width_px - 0.5], constrain="domain"),
                yaxis=dict(visible=False, range=[height_px - 0.5, -0.5], scaleanchor="x",
                           constrain="domain"))


def _indexed_uri(index: np.ndarray, colorscale: str) -> str:
    """(h, w) uint8 colour indices -> data URI, the colour scale applied by Pillow's palette."""
    image = Image.frombytes("P", (index.shape[1], index.shape[0]),
                            np.ascontiguousarray(index).tobytes())
    image.putpalette(_lut(colorscale).tobytes())
    return _encode_uri(image)


def _colour_index(values: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    span = (zmax - zmin) or 1.0
    index = np.subtract(values, np.float32(zmin), dtype=np.float32)
    index *= np.float32(255.0 / span)
    np.clip(index, 0, 255, out=index)
    return index.astype(np.uint8)


def picture_figure(values: np.ndarray, title: str = "", *, signed: Optional[bool] = None,
                   colour: bool = False, height: int = 340, colorbar: bool = True,
                   pickable: bool = False, window: Optional[Sequence[int]] = None,
                   photo_like: bool = False) -> go.Figure:
    """A picture or one feature map as an image.

    values: (h, w) float -> a diverging scale (signed, 0 is white) or grey scale, with a colour
    bar and the value range in the title; (h, w, 3) float in [0, 255] with ``colour=True`` -> the
    RGB picture itself; (h, w, 3) signed with ``colour=True`` -> each channel 0 = mid-grey.
    ``pickable`` adds an invisible grid of PICK_POINTS² markers that report clicks as points
    (see :func:`picked_pixel`). ``window`` = (top, left, bottom, right) outlines a receptive
    field (pixel coordinates, bottom/right exclusive). ``photo_like`` (colour only) clips to
    [0, 255] instead of rescaling: right for kernels that keep brightness (blur, sharpen), whose
    response is itself a picture.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim not in (2, 3):
        raise ValueError(f"values must be (h, w) or (h, w, 3), got shape {values.shape}")
    h, w = values.shape[:2]
    lo, hi = value_range(values)
    traces = []
    if values.ndim == 3:
        if not colour or values.shape[2] != 3:
            raise ValueError("values (h, w, 3) needs colour=True")
        zmin, zmax, is_signed = _limits(lo, hi, signed)
        if photo_like:
            pixels = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        elif is_signed:
            pixels = np.clip(np.rint(127.5 + values * (127.5 / zmax)), 0, 255).astype(np.uint8)
        else:
            scale = 255.0 / zmax if zmax > 255 or (0 < zmax <= 1) else 1.0
            pixels = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        traces.append(dict(type="image", source=_png_uri(pixels), hoverinfo="x+y"))
    else:
        zmin, zmax, is_signed = _limits(lo, hi, signed)
        scale = DIVERGING if is_signed else SEQUENTIAL
        traces.append(dict(type="image", hoverinfo="x+y",
                           source=_indexed_uri(_colour_index(values, zmin, zmax), scale)))
        if colorbar:
            traces.append(dict(
                type="scatter", x=[0], y=[0], mode="markers", hoverinfo="skip",
                marker=dict(size=0.1, opacity=0, color=[zmin], cmin=zmin, cmax=zmax,
                            colorscale=scale_pairs(scale), showscale=True,
                            colorbar=dict(thickness=10, len=0.8, tickfont=dict(size=10)))))
    if pickable:
        traces.append(_pick_grid(values if values.ndim == 2 else values.mean(axis=2)))
    full_title = (f"{title}<br><sup>{shape_text(values.shape)} · "
                  + _("range [{low}, {high}]", low=_fmt(lo), high=_fmt(hi)) + "</sup>")
    layout = _picture_layout(full_title, height, w, h)
    if window is not None:
        top, left, bottom, right = window
        # A few pixels of margin so a 3×3 window on a 1024-px picture is still visible.
        grow = max(0.0, (max(h, w) / 120 - (bottom - top)) / 2)
        layout["shapes"] = [dict(type="rect", x0=left - 0.5 - grow, x1=right - 0.5 + grow,
                                 y0=top - 0.5 - grow, y1=bottom - 0.5 + grow,
                                 line=dict(color="#ffb000", width=2))]
    return fast_figure(traces, layout)


def _pick_grid(plane: np.ndarray) -> dict:
    h, w = plane.shape
    rows = np.unique(np.linspace(0, h - 1, min(h, PICK_POINTS)).round().astype(int))
    cols = np.unique(np.linspace(0, w - 1, min(w, PICK_POINTS)).round().astype(int))
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return dict(
        type="scatter", x=cc.ravel().astype(np.int32), y=rr.ravel().astype(np.int32),
        mode="markers",
        name=_("pick"), customdata=plane[rr, cc].ravel().astype(np.float32),
        hovertemplate=_("row %{y}, col %{x}<br>value %{customdata:.5g}") + "<extra></extra>",
        marker=dict(size=max(4, 300 // max(len(rows), len(cols))), opacity=0.0,
                    color="black"),
        selected=dict(marker=dict(opacity=0.0)), unselected=dict(marker=dict(opacity=0.0)))


def picked_pixel(selection, shape: Sequence[int]) -> Optional[tuple[int, int]]:
    """(row, col) of the first clicked point in st.plotly_chart's selection, within ``shape``
    (h, w); None when nothing usable was clicked."""
    try:
        points = selection["selection"]["points"] if "selection" in selection else \
            selection["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        try:
            row, col = int(round(float(point["y"]))), int(round(float(point["x"])))
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= row < shape[0] and 0 <= col < shape[1]:
            return row, col
    return None


def stack_figure(maps: np.ndarray, labels: Sequence[str], title: str = "",
                 height: int = 380, ncols: Optional[int] = None) -> go.Figure:
    """(h, w, F) feature maps side by side as ONE image; each map on its own symmetric scale
    (signed maps: blue < 0 < red; non-negative maps: grey scale)."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (h, w, F), got shape {maps.shape}")
    h, w, n = maps.shape
    signed = bool((maps < 0).any())
    tiles = []
    for f in range(n):
        lo, hi = value_range(maps[:, :, f])
        bound = max(abs(lo), abs(hi)) or 1.0
        tiles.append(maps[:, :, f] / bound)
    ncols = ncols or min(n, 4 if w >= h else 6)
    gap = max(1, w // 40)
    grid = mosaic(np.stack(tiles), ncols=ncols, gap=gap)
    pixels = colorize(grid, -1.0 if signed else 0.0, 1.0, DIVERGING if signed else SEQUENTIAL)
    annotations = []
    for i, label in enumerate(labels[:n]):
        r, c = divmod(i, ncols)
        annotations.append(dict(x=c * (w + gap) + w / 2, y=r * (h + gap), yanchor="bottom",
                                text=label, showarrow=False, font=dict(size=11),
                                bgcolor="rgba(255,255,255,0.8)"))
    full = (f"{title}<br><sup>"
            + _("stack {shape} (H×W×filters); each map on its own scale",
                shape=shape_text(maps.shape)) + "</sup>")
    layout = _picture_layout(full, height, grid.shape[1], grid.shape[0])
    layout["annotations"] = annotations
    return fast_figure([dict(type="image", source=_png_uri(pixels), hoverinfo="x+y")], layout)


# ----------------------------------------------------------------------------------------------
# Small matrices with numbers
# ----------------------------------------------------------------------------------------------

def _matrix_trace(values: np.ndarray, signed: Optional[bool], is_pad=None, showscale=False,
                  coloraxis: Optional[str] = None) -> dict:
    values = np.asarray(values, dtype=np.float64)
    zmin, zmax, is_signed = colour_limits(values, signed)
    text = [[_fmt(v, 3) for v in row] for row in values]
    if is_pad is not None:
        pad = _("pad")
        text = [[f"{t}<br>{pad}" if p else t for t, p in zip(trow, prow)]
                for trow, prow in zip(text, np.asarray(is_pad))]
    kwargs = dict(coloraxis=coloraxis) if coloraxis else dict(
        colorscale=scale_pairs(DIVERGING if is_signed else SEQUENTIAL), zmin=zmin, zmax=zmax,
        showscale=showscale)
    return dict(type="heatmap", z=values, text=text, texttemplate="%{text}", xgap=1, ygap=1,
                textfont=dict(size=11 if values.shape[1] <= 7 else 9),
                hovertemplate=_("row %{y}, col %{x}: %{z}") + "<extra></extra>", **kwargs)


def text_width(text: str, font_size: int = 13) -> float:
    """About how many pixels ``text`` takes in plotly's sans-serif font: a Hangul syllable (or
    another wide character) about one em, a Latin letter or digit about 0.55 em."""
    return sum(font_size if ord(ch) >= 0x1100 else 0.55 * font_size for ch in text)


def wrap_title(title: str, width_px: float, font_size: int = 13) -> list[str]:
    """``title`` broken at spaces into lines of at most ``width_px`` (a word longer than that
    stays whole on its line)."""
    lines: list[str] = []
    for word in title.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", font_size) <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def matrix_figure(values: np.ndarray, title: str = "", *, signed: Optional[bool] = None,
                  is_pad: Optional[np.ndarray] = None, height: Optional[int] = None,
                  font_size: int = 12) -> go.Figure:
    """A small 2-D matrix (kernel, patch, toy tensor) as a heatmap with its numbers."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    h, w = values.shape
    # Fixed pixel size per cell (shown with width="content"): square cells whose numbers fit,
    # whatever the column width.
    cell = 44 if max(h, w) <= 7 else 36 if max(h, w) <= 9 else 24
    width = max(160, 8 + cell * w)
    lines = wrap_title(title, width - 8)
    extra = 17 * (len(lines) - 1)   # a title that does not fit the narrow figure wraps
    layout = dict(title=dict(text="<br>".join(lines) + f"<br><sup>{shape_text(values.shape)}"
                             "</sup>", font=dict(size=13)),
                  height=(height or 60 + cell * h) + extra, width=width,
                  margin=dict(l=4, r=4, t=52 + extra, b=4), font=dict(size=font_size),
                  yaxis=dict(autorange="reversed", visible=False), xaxis=dict(visible=False))
    return fast_figure([_matrix_trace(values, signed, is_pad)], layout)


def kernel_figure(kernel: np.ndarray, title: Optional[str] = None,
                  height: Optional[int] = None) -> go.Figure:
    """A (kh, kw) kernel with its weights; (kh, kw, C) shows channel 0 (they are equal in the
    lab's 3-channel mode, which the caption says)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 3:
        kernel = kernel[:, :, 0]
    return matrix_figure(kernel, _("Kernel") if title is None else title, signed=True,
                         height=height)


def arithmetic_figure(explained: dict, height: Optional[int] = None) -> go.Figure:
    """Receptive field, kernel and element-wise products side by side (one row per channel for
    3-channel kernels), from :func:`playground.core.filters.explain_pixel`'s dict."""
    patch = np.asarray(explained["patch"], dtype=np.float64)
    kernel = np.asarray(explained["kernel"], dtype=np.float64)
    products = np.asarray(explained["products"], dtype=np.float64)
    is_pad = np.asarray(explained["is_pad"])
    if patch.ndim == 2:
        patch, kernel, products = patch[:, :, None], kernel[:, :, None], products[:, :, None]
    channels = patch.shape[2]
    kh, kw = patch.shape[:2]
    names = [_("receptive field (input)"), _("× kernel"), _("= products")]
    titles = [f"{n}{' · ' + 'RGB'[c] if channels == 3 else ''}" for c in range(channels)
              for n in names]
    traces = []
    for c in range(channels):
        for col, trace in enumerate((_matrix_trace(patch[:, :, c], False, is_pad),
                                     _matrix_trace(kernel[:, :, c], True),
                                     _matrix_trace(products[:, :, c], True)), start=1):
            traces.append(dict(trace, **panel_axes(c * 3 + col)))
    cell = 30 if max(kh, kw) <= 7 else 22
    layout = dict(height=height or (70 + channels * (cell * kh + 40)),
                  margin=dict(l=4, r=4, t=40, b=4), font=dict(size=11),
                  **subplot_grid(channels, 3, titles, horizontal_spacing=0.04,
                                 vertical_spacing=0.08))
    for k in range(1, channels * 3 + 1):
        suffix = "" if k == 1 else str(k)
        layout[f"xaxis{suffix}"]["visible"] = False
        layout[f"yaxis{suffix}"].update(autorange="reversed", visible=False,
                                        scaleanchor=f"x{suffix}")
    return fast_figure(traces, layout)
