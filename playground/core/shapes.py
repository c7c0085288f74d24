"""Output shapes and parameter counts of conv and pooling layers, with TensorFlow's semantics.

Pure Python on ints: no numpy, streamlit or tensorflow import, so the Shape Lab opens fast.

Padding is ``"valid"``, ``"same"`` (case-insensitive, TensorFlow's rule: out = ceil(n / stride),
the odd padded pixel goes bottom/right) or an int >= 0 of pixels added on *each* side.
Every function raises ``ValueError`` naming the offending argument and value.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Sequence, Union

from playground.i18n import _

Padding = Union[str, int]
IntOrPair = Union[int, Sequence[int]]

__all__ = [
    "output_size",
    "same_padding",
    "padding_amounts",
    "effective_kernel_size",
    "conv_output_shape",
    "pool_output_shape",
    "conv_param_count",
    "AxisReport",
    "axis_report",
    "normalize_padding",
    "as_pair",
]


def _as_int(name: str, value, minimum: int) -> int:
    # bool is an int subclass; True as a stride is a bug in the caller, not a 1.
    if isinstance(value, bool):
        raise ValueError(_("{name} must be an integer, got {value}", name=name,
                           value=repr(value)))
    try:
        number = operator.index(value)
    except TypeError:
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            raise ValueError(_("{name} must be an integer, got {value}", name=name,
                               value=repr(value))) from None
    if number < minimum:
        raise ValueError(_("{name} must be >= {minimum}, got {value}", name=name,
                           minimum=minimum, value=number))
    return number


def as_pair(name: str, value: IntOrPair, minimum: int = 1) -> tuple[int, int]:
    """An int or an (h, w) pair -> (h, w) ints >= minimum."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(_("{name} must be an int or a pair (h, w), got {value}",
                               name=name, value=repr(value)))
        return _as_int(f"{name}[0]", value[0], minimum), _as_int(f"{name}[1]", value[1], minimum)
    number = _as_int(name, value, minimum)
    return number, number


def normalize_padding(padding: Padding) -> Union[str, int]:
    """``"valid"`` / ``"same"`` (any case) -> lower-case string; an int >= 0 -> that int."""
    if isinstance(padding, str):
        lowered = padding.strip().lower()
        if lowered in ("valid", "same"):
            return lowered
        if lowered.isdigit():
            return int(lowered)
        raise ValueError(_("padding must be 'valid', 'same' or an int >= 0, got {value}",
                           value=repr(padding)))
    try:
        return _as_int("padding", padding, 0)
    except ValueError:
        raise ValueError(_("padding must be 'valid', 'same' or an int >= 0, got {value}",
                           value=repr(padding))) from None


def effective_kernel_size(f: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: (f - 1) * dilation + 1."""
    f = _as_int("kernel_size", f, 1)
    dilation = _as_int("dilation", dilation, 1)
    return (f - 1) * dilation + 1


def same_padding(n: int, f: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """(before, after) pixels TensorFlow's SAME padding adds on one axis of size n."""
    n = _as_int("n", n, 1)
    stride = _as_int("stride", stride, 1)
    eff = effective_kernel_size(f, dilation)
    out = -(-n // stride)
    total = max((out - 1) * stride + eff - n, 0)
    return total // 2, total - total // 2


def padding_amounts(n: int, f: int, stride: int = 1, padding: Padding = "valid",
                    dilation: int = 1) -> tuple[int, int]:
    """(before, after) pixels actually added on one axis for any padding mode."""
    mode = normalize_padding(padding)
    if mode == "same":
        return same_padding(n, f, stride, dilation)
    if mode == "valid":
        return 0, 0
    return mode, mode


def output_size(n: int, f: int, stride: int = 1, padding: Padding = "valid",
                dilation: int = 1) -> int:
    """Output length of one axis: floor((n + pad_before + pad_after - F_eff) / stride) + 1.

    With SAME this equals ceil(n / stride), as in TensorFlow, for any kernel size.
    Raises ValueError when the (dilated) kernel is larger than the padded input.
    """
    return _output_size(n, f, stride, padding, dilation)


def _output_size(n, f, stride, padding, dilation, names=("n", "f", "stride", "dilation")) -> int:
    # ``names`` lets conv_output_shape / pool_output_shape quote *their* argument names.
    n_name, f_name, stride_name, dilation_name = names
    n = _as_int(n_name, n, 1)
    f = _as_int(f_name, f, 1)
    stride = _as_int(stride_name, stride, 1)
    dilation = _as_int(dilation_name, dilation, 1)
    mode = normalize_padding(padding)
    if mode == "same":
        return -(-n // stride)
    eff = (f - 1) * dilation + 1
    pad = 0 if mode == "valid" else 2 * mode
    padded = f"{n} + 2*{mode} = {n + pad}" if pad else f"{n}"
    if f > n + pad:
        raise ValueError(_("{name}: kernel {size} is larger than the padded input {padded}",
                           name=f_name, size=f, padded=padded))
    if eff > n + pad:
        raise ValueError(_("{name}: kernel {size} dilated by {dilation} spans {span}, larger "
                           "than the padded input {padded}", name=dilation_name, size=f,
                           dilation=dilation, span=eff, padded=padded))
    return (n + pad - eff) // stride + 1


def _shape3(name: str, shape) -> tuple[int, int, int]:
    if not isinstance(shape, (list, tuple)) or len(shape) != 3:
        raise ValueError(_("{name} must be (H, W, C), got {value}", name=name,
                           value=repr(shape)))
    return (_as_int(f"{name}[0] (height)", shape[0], 1),
            _as_int(f"{name}[1] (width)", shape[1], 1),
            _as_int(f"{name}[2] (channels)", shape[2], 1))


def conv_output_shape(input_shape, filters: int, kernel_size: IntOrPair, strides: IntOrPair = 1,
                      padding: Padding = "valid", dilation: IntOrPair = 1) -> tuple[int, int, int]:
    """(H, W, C) -> (H', W', filters) of a Conv2D layer."""
    h, w, _channels = _shape3("input_shape", input_shape)
    filters = _as_int("filters", filters, 1)
    kh, kw = as_pair("kernel_size", kernel_size)
    sh, sw = as_pair("strides", strides)
    dh, dw = as_pair("dilation", dilation)
    return (_output_size(h, kh, sh, padding, dh, ("input_shape[0]", "kernel_size[0]",
                                                   "strides[0]", "dilation[0]")),
            _output_size(w, kw, sw, padding, dw, ("input_shape[1]", "kernel_size[1]",
                                                   "strides[1]", "dilation[1]")),
            filters)


def pool_output_shape(input_shape, pool_size: IntOrPair, strides: IntOrPair | None = None,
                      padding: Padding = "valid") -> tuple[int, int, int]:
    """(H, W, C) -> (H', W', C) of a pooling layer; strides=None means strides = pool_size."""
    h, w, c = _shape3("input_shape", input_shape)
    ph, pw = as_pair("pool_size", pool_size)
    sh, sw = (ph, pw) if strides is None else as_pair("strides", strides)
    mode = normalize_padding(padding)
    if isinstance(mode, int) and mode >= min(ph, pw):
        # TensorFlow's pooling refuses a window that could lie entirely in the padding.
        raise ValueError(_("padding: {pixels} pixels per side must be smaller than the pool "
                           "window {height}×{width}", pixels=mode, height=ph, width=pw))
    names = ("input_shape[{}]", "pool_size[{}]", "strides[{}]", "dilation")
    return (_output_size(h, ph, sh, padding, 1, tuple(n.format(0) for n in names)),
            _output_size(w, pw, sw, padding, 1, tuple(n.format(1) for n in names)), c)


def conv_param_count(kernel_size: IntOrPair, in_channels: int, filters: int,
                     use_bias: bool = True) -> int:
    """kh * kw * in_channels * filters weights, plus one bias per filter."""
    kh, kw = as_pair("kernel_size", kernel_size)
    in_channels = _as_int("in_channels", in_channels, 1)
    filters = _as_int("filters", filters, 1)
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


@dataclass(frozen=True)
class AxisReport:
    """Everything the Shape Lab says about one axis of one layer.

    ``padded`` = n + pad_before + pad_after; ``used`` is how many of the padded cells the last
    window reaches; ``unused`` = padded - used cells at the bottom/right that no window covers
    (non-zero exactly when (padded - F_eff) is not a multiple of the stride).
    """

    n: int
    kernel: int
    effective_kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    out: int
    padded: int
    used: int
    unused: int
    remainder: int

    @property
    def fits(self) -> bool:
        return self.unused == 0


def axis_report(n: int, f: int, stride: int = 1, padding: Padding = "valid",
                dilation: int = 1) -> AxisReport:
    """Output size, the padding applied and the cells left over on one axis."""
    out = output_size(n, f, stride, padding, dilation)
    before, after = padding_amounts(n, f, stride, padding, dilation)
    eff = effective_kernel_size(f, dilation)
    padded = n + before + after
    used = (out - 1) * stride + eff
    remainder = (padded - eff) % stride if padded >= eff else 0
    return AxisReport(n=n, kernel=f, effective_kernel=eff, stride=stride, dilation=dilation,
                      pad_before=before, pad_after=after, out=out, padded=padded,
                      used=used, unused=max(padded - used, 0), remainder=remainder)


def shape_text(shape) -> str:
    """'28×28×32' for a shape (any sequence of ints); unknown sizes (None) print as '?'."""
    return "×".join("?" if d is None else str(int(d)) for d in shape)


# --- the layers modern CNNs use (Keras' Conv2DTranspose, DepthwiseConv2D, SeparableConv2D) ---
def _same_or_valid(padding) -> str:
    mode = normalize_padding(padding)
    if isinstance(mode, int):
        # Keras' transposed, depthwise and separable convolutions know only these two.
        raise ValueError(_("padding: this layer takes 'valid' or 'same', got {value}",
                           value=repr(mode)))
    return mode


def transposed_output_size(n: int, f: int, stride: int = 1, padding: Padding = "valid",
                           output_padding: int | None = None) -> int:
    """Output length of one axis of a transposed convolution, as Keras' Conv2DTranspose.

    VALID: (N − 1)·S + max(F, S), i.e. (N − 1)·S + F whenever F ≥ S (with F < S the last
    S − F cells only receive the bias); SAME: N·S. With ``output_padding`` p (0 <= p < S,
    added to the end): VALID (N − 1)·S + F + p, SAME (N − 1)·S + (F mod 2) + p.
    """
    n = _as_int("n", n, 1)
    f = _as_int("kernel_size", f, 1)
    stride = _as_int("stride", stride, 1)
    mode = _same_or_valid(padding)
    if output_padding is not None:
        output_padding = _as_int("output_padding", output_padding, 0)
        if output_padding >= stride:
            raise ValueError(_("output_padding must be smaller than the stride {stride}, got "
                               "{value}", stride=stride, value=output_padding))
        return (n - 1) * stride + (f if mode == "valid" else f % 2) + output_padding
    return (n - 1) * stride + max(f, stride) if mode == "valid" else n * stride


def transposed_padding(n: int, f: int, stride: int = 1, padding: Padding = "valid") \
        -> tuple[int, int]:
    """(before, after) zeros around the *spread* input (its N cells S apart, S − 1 zeros
    between) that the flipped kernel slides over, stride 1, to give the transposed
    convolution's output (the gradient of the forward convolution it transposes).

    before = F − 1 − p, where p is the padding before of the forward convolution that maps
    the output back to N cells (TensorFlow's SAME rule on the output's size; 0 for VALID);
    after fills the padded length to out + F − 1.
    """
    out = transposed_output_size(n, f, stride, padding)
    mode = _same_or_valid(padding)
    forward_before = same_padding(out, f, stride)[0] if mode == "same" else 0
    before = f - 1 - forward_before
    spread = (n - 1) * stride + 1
    return before, out + f - 1 - spread - before


def conv_transpose_output_shape(input_shape, filters: int, kernel_size: IntOrPair,
                                strides: IntOrPair = 1, padding: Padding = "valid",
                                output_padding=None) -> tuple[int, int, int]:
    """(H, W, C) -> (H', W', filters) of a Conv2DTranspose layer (transposed_output_size)."""
    h, w, _channels = _shape3("input_shape", input_shape)
    filters = _as_int("filters", filters, 1)
    kh, kw = as_pair("kernel_size", kernel_size)
    sh, sw = as_pair("strides", strides)
    oph, opw = (None, None) if output_padding is None else \
        as_pair("output_padding", output_padding, 0)
    return (transposed_output_size(h, kh, sh, padding, oph),
            transposed_output_size(w, kw, sw, padding, opw), filters)


def depthwise_output_shape(input_shape, kernel_size: IntOrPair, strides: IntOrPair = 1,
                           padding: Padding = "valid", depth_multiplier: int = 1) \
        -> tuple[int, int, int]:
    """(H, W, C) -> (H', W', C·M) of a DepthwiseConv2D layer: each of the C channels gets its
    own M kernels; the sizes follow the convolution's formula."""
    _same_or_valid(padding)
    multiplier = _as_int("depth_multiplier", depth_multiplier, 1)
    h, w, c = conv_output_shape(input_shape, 1, kernel_size, strides, padding)[:2] + \
        (_shape3("input_shape", input_shape)[2],)
    return h, w, c * multiplier


def depthwise_param_count(kernel_size: IntOrPair, in_channels: int, depth_multiplier: int = 1,
                          use_bias: bool = True) -> int:
    """kh·kw·C·M weights (one kh×kw kernel per channel and multiplier), plus C·M biases."""
    kh, kw = as_pair("kernel_size", kernel_size)
    outputs = _as_int("in_channels", in_channels, 1) * \
        _as_int("depth_multiplier", depth_multiplier, 1)
    return kh * kw * outputs + (outputs if use_bias else 0)


def separable_param_count(kernel_size: IntOrPair, in_channels: int, filters: int,
                          depth_multiplier: int = 1, use_bias: bool = True) -> int:
    """Depthwise kh·kw·C·M, then pointwise 1×1: C·M·filters weights, plus filters biases."""
    depthwise = depthwise_param_count(kernel_size, in_channels, depth_multiplier, False)
    filters = _as_int("filters", filters, 1)
    return depthwise + in_channels * depth_multiplier * filters + (filters if use_bias else 0)
