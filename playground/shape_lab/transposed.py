"""The Shape Lab's transposed convolution (Keras' Conv2DTranspose): its output-size formula with
the user's numbers, and the sliding-window view of it.

The window view: the N input cells are spread S apart (S − 1 zeros between neighbours), padded
with ``shapes.transposed_padding`` zeros, and the kernel *flipped* (rotated 180°) slides over
that with stride 1. Each output cell is then Σ spread·flipped kernel, which equals
``tf.nn.conv2d_transpose`` (tests/test_modern_layers.py): the transposed convolution is the
gradient of the stride-S convolution that maps the output back to the input's size.

Pure Python + numpy (one correlation implementation: ``playground.core.filters.convolve``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from playground.core import filters, shapes
from playground.i18n import _
from playground.shape_lab import settings as shape_settings
from playground.shape_lab.lab import (
    AXES,
    AXIS_TITLES,
    MAX_NUMBERED,
    LayerReport,
    Window,
    _join,
    _num,
    demo_image,
    demo_kernel,
)

KIND = "transposed"


@dataclass(frozen=True)
class TransposedAxis:
    """One axis of a transposed convolution: N in, F kernel, stride S, out cells; the spread
    input's (N − 1)·S + 1 cells with ``before`` / ``after`` zeros around them for the window
    view. ``padded`` = spread + before + after = out + F − 1. Duck-types shapes.AxisReport
    where the page reads it (``padded``, ``out``)."""

    n: int
    kernel: int
    stride: int
    out: int
    spread: int
    before: int
    after: int

    @property
    def padded(self) -> int:
        return self.spread + self.before + self.after


def axis(n: int, f: int, stride: int, padding) -> TransposedAxis:
    out = shapes.transposed_output_size(n, f, stride, padding)
    before, after = shapes.transposed_padding(n, f, stride, padding)
    return TransposedAxis(n=n, kernel=f, stride=stride, out=out, spread=(n - 1) * stride + 1,
                          before=before, after=after)


def axis_formula(name: str, a: TransposedAxis, padding) -> str:
    """One markdown line: Keras' output-size formula with this axis' numbers, and the padding
    of the spread input."""
    prefix = f"**{_(AXIS_TITLES[name])}:** "
    if padding == "same":
        size = f"`N·S = {a.n}·{a.stride} = {a.out}`"
        text = _("SAME gives {formula}", formula=size)
    else:
        size = (f"`(N − 1)·S + max(F, S) = ({a.n} − 1)·{a.stride} + max({a.kernel}, "
                f"{a.stride}) = {a.out}`")
        text = _("VALID gives {formula}", formula=size)
        if a.kernel < a.stride:
            text += " " + _("(F < S: the last {count} cells get only the bias)",
                            count=a.stride - a.kernel)
    spread = f"`({a.n} − 1)·{a.stride} + 1 = {a.spread}`"
    return prefix + text + "; " + _("the spread input has {spread} cells, padded with "
                                    "**{before} before, {after} after**",
                                    spread=spread, before=a.before, after=a.after)


def layer_report(settings: Mapping[str, Any]) -> LayerReport:
    """Sections 1-2 for a transposed convolution; ValueError (naming the setting) when the
    layer is impossible (explicit padding: Keras' Conv2DTranspose takes VALID or SAME)."""
    s = {k: settings[k] for k in ("h", "w", "c", "kh", "kw", "filters", "sh", "sw",
                                  "dilation")}
    padding = shape_settings.padding_value(settings)
    input_shape = (s["h"], s["w"], s["c"])
    output_shape = shapes.conv_transpose_output_shape(
        input_shape, s["filters"], (s["kh"], s["kw"]), (s["sh"], s["sw"]), padding)
    padding = shapes.normalize_padding(padding)
    axes = (axis(s["h"], s["kh"], s["sh"], padding), axis(s["w"], s["kw"], s["sw"], padding))
    params = shapes.conv_param_count((s["kh"], s["kw"]), s["c"], s["filters"])
    params_text = _("{kh}×{kw}×{c}×{filters} = {weights} weights + {biases} biases = "
                    "{params} parameters", kh=s["kh"], kw=s["kw"], c=s["c"],
                    filters=s["filters"], weights=f"{params - s['filters']:,}",
                    biases=f"{s['filters']:,}", params=f"{params:,}")
    notes = [_("A transposed convolution makes the picture larger: each input cell adds "
               "its value × the kernel into the output, S cells from its neighbour's. "
               "The window below computes the same numbers the other way round.")]
    if s["dilation"] != 1:
        notes.append(_("The dilation setting is ignored here (the transposed convolution is "
                       "shown without dilation)."))
    return LayerReport(kind=KIND, input_shape=input_shape, output_shape=output_shape,
                       axes=axes, padding=padding,
                       formulas=[axis_formula(name, a, padding) for name, a in zip(AXES, axes)],
                       params_text=params_text, params=params, fit=[], notes=notes)


def spread_input(image: np.ndarray, stride: tuple[int, int], pads: tuple[int, int, int, int]) \
        -> tuple[np.ndarray, np.ndarray]:
    """(H, W) float32 -> (padded spread input (Hp, Wp) float32, is_zero (Hp, Wp) bool).

    The input's cells land S apart, ``pads`` = (top, bottom, left, right) zeros around them;
    ``is_zero`` marks every inserted cell (between the input's cells and the padding)."""
    h, w = image.shape
    sh, sw = stride
    top, bottom, left, right = pads
    hp = top + (h - 1) * sh + 1 + bottom
    wp = left + (w - 1) * sw + 1 + right
    padded = np.zeros((hp, wp), np.float32)
    is_zero = np.ones((hp, wp), bool)
    padded[top:top + (h - 1) * sh + 1:sh, left:left + (w - 1) * sw + 1:sw] = image
    is_zero[top:top + (h - 1) * sh + 1:sh, left:left + (w - 1) * sw + 1:sw] = False
    return padded, is_zero


def conv_transpose(image: np.ndarray, kernel: np.ndarray, stride: tuple[int, int],
                   padding) -> np.ndarray:
    """(H, W) float32 image, (kh, kw) float32 kernel -> the transposed convolution's (H', W')
    float32 output, as ``tf.nn.conv2d_transpose`` with Keras' output size: the flipped kernel
    slid with stride 1 over the padded spread input."""
    image = np.asarray(image, np.float32)
    kernel = np.asarray(kernel, np.float32)
    (h, w), (kh, kw) = image.shape, kernel.shape
    a_h, a_w = axis(h, kh, stride[0], padding), axis(w, kw, stride[1], padding)
    padded, _zero = spread_input(image, stride, (a_h.before, a_h.after, a_w.before, a_w.after))
    return filters.convolve(padded, kernel[::-1, ::-1], 1, "valid")


class TransposedWindow(Window):
    """A Window over the padded spread input (stride 1, the kernel flipped)."""

    @property
    def pad_label(self) -> str:
        return "0"  # inserted zeros and padding alike are zeros


def window(settings: Mapping[str, Any], report: LayerReport, pos: int) -> TransposedWindow:
    """The demo input through the transposed convolution, and output cell ``pos`` (row-major,
    clamped) as the flipped kernel over the padded spread input."""
    image = demo_image(settings)
    kernel = demo_kernel(settings)
    kh, kw = kernel.shape
    a_h, a_w = report.axes
    stride = (a_h.stride, a_w.stride)
    pads = (a_h.before, a_h.after, a_w.before, a_w.after)
    padded, is_zero = spread_input(image, stride, pads)
    flipped = kernel[::-1, ::-1]
    output = filters.convolve(padded, flipped, 1, "valid")
    out_h, out_w = output.shape
    pos = min(max(int(pos), 0), out_h * out_w - 1)
    row, col = divmod(pos, out_w)
    taps = [(row + i, col + j) for i in range(kh) for j in range(kw)]
    terms = [f"{_num(padded[r, c])}×{_num(k)}" for (r, c), k in zip(taps, flipped.ravel())
             if not is_zero[r, c]]
    value = float(output[row, col])
    equation = (_join(terms, " + ") + f" = {_num(value)}" if terms else
                _("{value} (the window covers only inserted zeros)", value=_num(value)))
    return TransposedWindow(
        kind=KIND, padded=padded, is_pad=is_zero, output=output, kernel=flipped, row=row,
        col=col, top=row, left=col, taps=taps, value=value, equation=equation,
        numbered=settings["h"] <= MAX_NUMBERED and settings["w"] <= MAX_NUMBERED,
        used=padded.shape, stride=(1, 1), dilation=1, pads=pads)


def window_text(win: TransposedWindow, settings: Mapping[str, Any]) -> tuple[list[str], str]:
    """(markdown lines under the window figure, its caption) for a transposed convolution."""
    from playground.shape_lab.lab import kernel_text

    size = f"{settings['kh']}×{settings['kw']}"
    lines = [
        _("**Output row {row}, column {col}** = spread input × flipped kernel: {equation}",
          row=win.row, col=win.col, equation=f"`{win.equation}`"),
        _("Kernel {size} flipped (rotated 180°): {kernel} (rows separated by ;)", size=size,
          kernel=f"`{kernel_text(win.kernel)}`"),
    ]
    caption = _("Grey cells are zeros: the S − 1 zeros inserted between the input's cells "
                "(stride {sh}×{sw}) and the padding around them. The flipped kernel slides over "
                "them with stride 1; every output equals TensorFlow's tf.nn.conv2d_transpose. "
                "The picture shows one input channel: each filter adds up the products over "
                "all C channels, plus its bias.", sh=settings["sh"], sw=settings["sw"])
    return lines, caption
