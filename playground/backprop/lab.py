"""The worked example of "Backprop by hand": the layer a learner chose, and one
:class:`playground.charts.backprop.Slide` per step of the step-through view.

The numbers are :mod:`playground.core.backprop`'s; this module picks the layer and writes the
captions. Pure Python/NumPy: no streamlit, no TensorFlow.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from playground.charts.backprop import Slide
from playground.core import backprop
from playground.core.backprop import Backprop, number
from playground.i18n import _

TOY_IMAGE = np.arange(1, 10, dtype=np.float64).reshape(3, 3)   # the course's 3×3 [1..9]
TOY_KERNEL = np.ones((2, 2))


def layer(settings: Mapping[str, Any]) -> Backprop:
    """The example the settings describe, worked through (raises ValueError with a one-line
    message when its kernel does not fit its input)."""
    stride = int(settings["stride"])
    if settings["example"] == "toy":
        x, kernel, bias = TOY_IMAGE, TOY_KERNEL, 0.0
    else:
        n, k = int(settings["input_size"]), int(settings["kernel_size"])
        rng = np.random.default_rng(int(settings["seed"]))
        if settings["values"] == "ramp":
            x = np.arange(1, n * n + 1, dtype=np.float64).reshape(n, n)
            kernel = np.arange(1, k * k + 1, dtype=np.float64).reshape(k, k) / (k * k)
            bias = 0.0
        else:
            x = rng.integers(-3, 4, (n, n)).astype(np.float64)
            kernel = rng.integers(-3, 4, (k, k)).astype(np.float64) / 2
            bias = float(rng.integers(-1, 2))
    target = None
    if settings["example"] == "custom" and settings["target"] == "random":
        shape = backprop.forward(x, kernel, 0.0, (stride, stride), settings["padding"]).shape
        target = np.random.default_rng(int(settings["seed"]) + 1).integers(-3, 4, shape)
    return backprop.backprop(x, kernel, bias, target, stride, settings["padding"],
                             settings["loss"], settings["learning_rate"])


def _pad_mask(bp: Backprop) -> np.ndarray:
    top, bottom, left, right = bp.pads
    mask = np.ones(bp.padded.shape, bool)
    mask[top:bp.padded.shape[0] - bottom, left:bp.padded.shape[1] - right] = False
    return mask


def forward_slide(bp: Backprop, k: int) -> Slide:
    """Output cell k (row-major): the kernel over the padded input."""
    r, c = divmod(k, bp.output.shape[1])
    terms = backprop.equation(backprop.forward_terms(bp, r, c), bp.output[r, c] - bp.bias)
    caption = f"Y[{r}, {c}] = {terms.rsplit(' = ', 1)[0]} + b({number(bp.bias)}) = " \
              f"{number(bp.output[r, c])}"
    return Slide(grid=bp.padded, grey=_pad_mask(bp), weights=bp.kernel, result=bp.output,
                 row=r, col=c, stride=bp.stride, dilation=(1, 1),
                 titles=(_("padded input X"), _("kernel W"), _("output Y")), caption=caption)


def kernel_grad_slide(bp: Backprop, k: int) -> Slide:
    """∂L/∂W cell k: ∂L/∂Y, its taps `stride` apart, over the padded input."""
    i, j = divmod(k, bp.kernel.shape[1])
    terms = backprop.equation(backprop.kernel_grad_terms(bp, i, j), bp.grad_kernel[i, j])
    return Slide(grid=bp.padded, grey=_pad_mask(bp), weights=bp.grad_output,
                 result=bp.grad_kernel, row=i, col=j, stride=(1, 1), dilation=bp.stride,
                 titles=(_("padded input X"), "∂L/∂Y", "∂L/∂W"),
                 caption=f"∂L/∂W[{i}, {j}] = {terms}")


def input_grad_slide(bp: Backprop, k: int) -> Slide:
    """∂L/∂X_pad cell k: the flipped kernel over ∂L/∂Y, dilated by the stride and framed by
    kernel − 1 zeros (a full convolution); the padding's cells are cut off afterwards."""
    hp, wp = bp.grad_padded.shape
    r, c = divmod(k, wp)
    kh, kw = bp.kernel.shape
    grey = np.ones(bp.full_grad.shape, bool)
    oh, ow = bp.output.shape
    grey[kh - 1:kh - 1 + (oh - 1) * bp.stride[0] + 1:bp.stride[0],
         kw - 1:kw - 1 + (ow - 1) * bp.stride[1] + 1:bp.stride[1]] = False
    top, bottom, left, right = bp.pads
    terms = backprop.equation(backprop.input_grad_terms(bp, r, c), bp.grad_padded[r, c])
    where = (_("padding: cut off") if not (top <= r < hp - bottom and left <= c < wp - right)
             else f"∂L/∂X[{r - top}, {c - left}]")
    return Slide(grid=bp.full_grad, grey=grey, weights=bp.kernel[::-1, ::-1],
                 result=bp.grad_padded, row=r, col=c, stride=(1, 1), dilation=(1, 1),
                 titles=(_("∂L/∂Y dilated, framed by zeros"), _("flipped kernel W"),
                         _("∂L/∂X (padded)")),
                 caption=f"∂L/∂X_pad[{r}, {c}] = {terms}  ({where})",
                 crop=(top, left, bp.x.shape[0], bp.x.shape[1]))
