"""Backpropagation through one convolution, by hand: the numbers ``tf.GradientTape`` computes.

One input plane X (H, W), one kernel W (kh, kw), one bias b, a stride and SAME/VALID padding
(TensorFlow's: the odd pixel of SAME goes bottom/right):

    forward     Y = X_pad ⋆ W + b                 (⋆: the sliding correlation, with the stride)
    loss        L = ½·Σ(Y − T)²   ("sum")  or   L = mean((Y − T)²)   ("mean", Keras' MSE)
    ∂L/∂Y       Y − T             ("sum")  or   2·(Y − T)/N          ("mean")
    ∂L/∂W       X_pad ⋆ dilate(∂L/∂Y, stride)     the window is ∂L/∂Y, its taps `stride` apart
    ∂L/∂X       full(dilate(∂L/∂Y)) ⋆ flip(W), cropped by the padding
    ∂L/∂b       Σ ∂L/∂Y
    SGD         W ← W − lr·∂L/∂W,  b ← b − lr·∂L/∂b, then the forward pass and loss again

All arrays are float64 (TensorFlow's float32 agrees to ~1e-6 relative; tests/test_backprop.py
compares them). Pure NumPy: no TensorFlow, no streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.core import shapes
from playground.i18n import _

LOSSES = ("sum", "mean")
PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class Backprop:
    """Every number of one forward pass, backward pass and SGD step (float64 arrays).

    Shapes: x (H, W); kernel (kh, kw); padded (Hp, Wp) = x with the zero padding; output,
    target, grad_output (H', W'); grad_output_dilated ((H'−1)·s+1, (W'−1)·s+1);
    grad_kernel (kh, kw); full_grad (Hp + kh − 1, Wp + kw − 1): the dilated ∂L/∂Y with kh−1 /
    kw−1 zeros around it (and the rows/cols that no window reached); grad_padded (Hp, Wp);
    grad_input (H, W); new_kernel (kh, kw); new_output (H', W').
    """

    x: np.ndarray
    kernel: np.ndarray
    bias: float
    stride: tuple[int, int]
    padding: str
    pads: tuple[int, int, int, int]     # top, bottom, left, right
    loss_kind: str
    learning_rate: float
    padded: np.ndarray
    output: np.ndarray
    target: np.ndarray
    loss: float
    grad_output: np.ndarray
    grad_output_dilated: np.ndarray
    grad_kernel: np.ndarray
    full_grad: np.ndarray
    grad_padded: np.ndarray
    grad_input: np.ndarray
    grad_bias: float
    new_kernel: np.ndarray
    new_bias: float
    new_output: np.ndarray
    new_loss: float

    @property
    def used(self) -> tuple[int, int]:
        """Padded rows / cols that some forward window reaches (the rest get gradient 0)."""
        (oh, ow), (kh, kw), (sh, sw) = self.output.shape, self.kernel.shape, self.stride
        return (oh - 1) * sh + kh, (ow - 1) * sw + kw


def _plane(name: str, value, ndim: int = 2) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim or min(array.shape) < 1:
        raise ValueError(_("{name} must be a 2-D grid of numbers, got shape {shape}",
                           name=name, shape=array.shape))
    if not np.isfinite(array).all():
        raise ValueError(_("{name} must contain only finite numbers (no NaN or inf)",
                           name=name))
    return array


def pad_amounts(input_shape, kernel_shape, stride, padding) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros TensorFlow adds; raises ValueError when the kernel
    does not fit (VALID with a kernel larger than the input)."""
    (h, w), (kh, kw), (sh, sw) = input_shape, kernel_shape, stride
    shapes.output_size(h, kh, sh, padding)
    shapes.output_size(w, kw, sw, padding)
    top, bottom = shapes.padding_amounts(h, kh, sh, padding)
    left, right = shapes.padding_amounts(w, kw, sw, padding)
    return top, bottom, left, right


def correlate(padded: np.ndarray, kernel: np.ndarray, stride=(1, 1),
              dilation=(1, 1)) -> np.ndarray:
    """VALID sliding correlation: out[r, c] = Σ_ij padded[r·s + i·d, c·s + j·d]·kernel[i, j].

    padded (Hp, Wp) float, kernel (kh, kw) float -> (H', W') float64.
    """
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw = kernel.shape
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    oh = (padded.shape[0] - eh) // sh + 1
    ow = (padded.shape[1] - ew) // sw + 1
    out = np.zeros((oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            cols = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
            out += kernel[i, j] * padded[rows, cols]
    return out


def forward(x, kernel, bias: float = 0.0, stride=(1, 1), padding: str = "valid"
            ) -> np.ndarray:
    """Y = X_pad ⋆ W + b: x (H, W), kernel (kh, kw) -> (H', W') float64, as tf.nn.conv2d."""
    x, kernel = _plane("input", x), _plane("kernel", kernel)
    top, bottom, left, right = pad_amounts(x.shape, kernel.shape, stride, padding)
    padded = np.pad(x, ((top, bottom), (left, right)))
    return correlate(padded, kernel, stride) + float(bias)


def loss_value(output: np.ndarray, target: np.ndarray, kind: str = "sum") -> float:
    """½·Σ(Y − T)² ("sum") or mean((Y − T)²) ("mean")."""
    diff = output - target
    return float(0.5 * np.sum(diff ** 2) if kind == "sum" else np.mean(diff ** 2))


def loss_gradient(output: np.ndarray, target: np.ndarray, kind: str = "sum") -> np.ndarray:
    """∂L/∂Y (H', W') float64: Y − T ("sum") or 2·(Y − T)/N ("mean")."""
    diff = output - target
    return diff if kind == "sum" else 2.0 * diff / diff.size


def dilate(grid: np.ndarray, stride) -> np.ndarray:
    """(h, w) -> ((h−1)·sh+1, (w−1)·sw+1): stride−1 zeros between neighbouring cells."""
    sh, sw = stride
    h, w = grid.shape
    out = np.zeros(((h - 1) * sh + 1, (w - 1) * sw + 1), dtype=np.float64)
    out[::sh, ::sw] = grid
    return out


def backprop(x, kernel, bias: float = 0.0, target=None, stride=(1, 1), padding: str = "valid",
             loss: str = "sum", learning_rate: float = 0.01) -> Backprop:
    """The whole worked example. ``target`` (H', W') defaults to zeros; ``stride`` an int or
    (sh, sw); ``padding`` "valid" or "same"; ``loss`` "sum" or "mean".

    Raises ValueError (a one-line message) for a kernel that does not fit, a target of the
    wrong shape, non-finite numbers or unknown options.
    """
    x, kernel = _plane("input", x), _plane("kernel", kernel)
    stride = shapes.as_pair("stride", stride)
    padding = str(padding).lower()
    if padding not in PADDINGS:
        raise ValueError(_("padding must be SAME or VALID, got {value}", value=padding))
    if loss not in LOSSES:
        raise ValueError(_("loss must be one of {choices}, got {value}",
                           choices=", ".join(LOSSES), value=loss))
    learning_rate = float(learning_rate)
    bias = float(bias)
    if not (np.isfinite(learning_rate) and np.isfinite(bias)):
        raise ValueError(_("the learning rate and the bias must be finite numbers"))
    pads = pad_amounts(x.shape, kernel.shape, stride, padding)
    top, bottom, left, right = pads
    padded = np.pad(x, ((top, bottom), (left, right)))
    output = correlate(padded, kernel, stride) + bias
    target = np.zeros_like(output) if target is None else _plane("target", target)
    if target.shape != output.shape:
        raise ValueError(_("the target must be {shape}, like the output; got {got}",
                           shape=shapes.shape_text(output.shape),
                           got=shapes.shape_text(target.shape)))
    grad_output = loss_gradient(output, target, loss)
    dilated = dilate(grad_output, stride)
    kh, kw = kernel.shape
    # ∂L/∂W: the dilated ∂L/∂Y slides over the padded input; rows/cols past the last forward
    # window (VALID with a stride that does not divide) never meet it, so they are cut off.
    grad_kernel = correlate(padded, grad_output, stride=(1, 1), dilation=stride)[:kh, :kw]
    # ∂L/∂X: full convolution = the flipped kernel sliding over the dilated ∂L/∂Y framed by
    # kh−1 / kw−1 zeros, plus zeros for the padded rows/cols no window reached.
    hp, wp = padded.shape
    extra_h = hp - ((output.shape[0] - 1) * stride[0] + kh)
    extra_w = wp - ((output.shape[1] - 1) * stride[1] + kw)
    full_grad = np.pad(dilated, ((kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w)))
    grad_padded = correlate(full_grad, kernel[::-1, ::-1])
    grad_input = grad_padded[top:hp - bottom, left:wp - right]
    grad_bias = float(np.sum(grad_output))
    new_kernel = kernel - learning_rate * grad_kernel
    new_bias = bias - learning_rate * grad_bias
    new_output = correlate(padded, new_kernel, stride) + new_bias
    return Backprop(
        x=x, kernel=kernel, bias=bias, stride=stride, padding=padding, pads=pads,
        loss_kind=loss, learning_rate=learning_rate, padded=padded, output=output,
        target=target, loss=loss_value(output, target, loss), grad_output=grad_output,
        grad_output_dilated=dilated, grad_kernel=grad_kernel, full_grad=full_grad,
        grad_padded=grad_padded, grad_input=grad_input, grad_bias=grad_bias,
        new_kernel=new_kernel, new_bias=new_bias, new_output=new_output,
        new_loss=loss_value(new_output, target, loss))


# The terms of one cell: what the step-through view writes under the figure.

def forward_terms(bp: Backprop, r: int, c: int) -> list[tuple[float, float]]:
    """Y[r, c] − b = Σ of these (input value, kernel value) products."""
    (sh, sw), (kh, kw) = bp.stride, bp.kernel.shape
    return [(float(bp.padded[r * sh + i, c * sw + j]), float(bp.kernel[i, j]))
            for i in range(kh) for j in range(kw)]


def kernel_grad_terms(bp: Backprop, i: int, j: int) -> list[tuple[float, float]]:
    """∂L/∂W[i, j] = Σ of these (input value, ∂L/∂Y value) products: the input cells the
    dilated ∂L/∂Y window covers when its top-left corner is at padded (i, j)."""
    (sh, sw), (oh, ow) = bp.stride, bp.output.shape
    return [(float(bp.padded[i + r * sh, j + c * sw]), float(bp.grad_output[r, c]))
            for r in range(oh) for c in range(ow)]


def input_grad_terms(bp: Backprop, r: int, c: int) -> list[tuple[float, float]]:
    """∂L/∂X_pad[r, c] = Σ of these (∂L/∂Y value, kernel value) products over the windows that
    touch padded cell (r, c); zero-valued cells of the framed, dilated ∂L/∂Y included."""
    kh, kw = bp.kernel.shape
    flipped = bp.kernel[::-1, ::-1]
    return [(float(bp.full_grad[r + i, c + j]), float(flipped[i, j]))
            for i in range(kh) for j in range(kw)]


def equation(terms: list[tuple[float, float]], total: float, skip_zeros: bool = True) -> str:
    """"1·0.5 + 2·(−1) + … = −1.5": the products of a cell (zero products left out when asked,
    "0" when nothing is left)."""
    shown = [(a, b) for a, b in terms if not (skip_zeros and (a == 0 or b == 0))]
    text = " + ".join(f"{number(a)}·{_signed(b)}" for a, b in shown) or "0"
    return f"{text} = {number(total)}"


def number(value: float, digits: int = 4) -> str:
    """A cell's number: whole numbers without a point, others with up to ``digits`` decimals
    (rounded as shown; "−" for minus)."""
    value = float(value)
    if abs(value) < 0.5 * 10 ** -digits:
        value = 0.0
    if value == int(value) and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


def _signed(value: float) -> str:
    text = number(value)
    return f"({text})" if text.startswith("−") else text
