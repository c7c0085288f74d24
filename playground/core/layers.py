"""The layers modern CNNs use, in network specs: named as Keras names the classes, with Keras'
argument names.

    {"type": "BatchNormalization"}                       # 4·C parameters, 2·C trainable
    {"type": "GlobalAveragePooling2D"}                   # (H, W, C) -> (C,)
    {"type": "Conv2DTranspose", "filters": 16, "kernel_size": 3, "strides": 2,
     "padding": "same", "activation": "relu"}            # VALID (N − 1)·S + max(F, S), SAME N·S
    {"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 1, "padding": "same",
     "depth_multiplier": 1, "activation": "relu"}        # (H', W', C·M)
    {"type": "SeparableConv2D", "filters": 32, "kernel_size": 3, "strides": 1,
     "padding": "same", "depth_multiplier": 1, "activation": "relu"}

The older spec name ``"BatchNorm"`` (saved runs, links) is read as ``"BatchNormalization"``.
:mod:`playground.core.network` calls this module for these kinds (normalisation, description,
output shape and parameters, the Keras layers that build them, reading them back from a Keras
model). Pure Python: no numpy, keras or streamlit.
"""
from __future__ import annotations

from typing import Any, Optional

from playground.core import shapes
from playground.i18n import _

BATCH_NORM_MOMENTUM = 0.9  # of the moving statistics (see keras_group)

# Fields and defaults of each kind (the conv kinds start like the spec's Conv2D: stride 1,
# SAME, ReLU). The order is the order of the editor's columns.
LAYER_DEFAULTS: dict[str, dict[str, Any]] = {
    "BatchNormalization": {},
    "GlobalAveragePooling2D": {},
    "Conv2DTranspose": {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same",
                        "activation": "relu"},
    "DepthwiseConv2D": {"kernel_size": 3, "strides": 1, "padding": "same",
                        "depth_multiplier": 1, "activation": "relu"},
    "SeparableConv2D": {"filters": 32, "kernel_size": 3, "strides": 1, "padding": "same",
                        "depth_multiplier": 1, "activation": "relu"},
}
KINDS = tuple(LAYER_DEFAULTS)
# Older spec names -> the Keras class name they are normalised to.
ALIASES = {"BatchNorm": "BatchNormalization"}
CONV_KINDS = ("Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D")
# Kinds that need an (H, W, C) input.
SPATIAL_KINDS = CONV_KINDS + ("GlobalAveragePooling2D",)
# The pipeline picture's stage names.
STAGE_NAMES = {"BatchNormalization": "batch norm", "GlobalAveragePooling2D": "global avg pool",
               "Conv2DTranspose": "transposed conv", "DepthwiseConv2D": "depthwise conv",
               "SeparableConv2D": "separable conv"}


def canonical(kind):
    """The spec name of a kind: an alias ('BatchNorm') becomes its Keras name."""
    return ALIASES.get(kind, kind) if isinstance(kind, str) else kind


def normalize(out: dict) -> dict:
    """Validate and coerce the fields of one of KINDS in place (defaults already filled in by
    network.normalize_layer); raises a one-line ValueError naming the field."""
    from playground.core import network  # network imports this module at its top

    kind = out["type"]
    if kind not in CONV_KINDS:
        return out
    if "filters" in out:
        out["filters"] = shapes.as_pair("filters", out["filters"])[0]
    out["kernel_size"] = network._int_or_pair("kernel_size", out["kernel_size"])
    out["strides"] = network._int_or_pair("strides", network._blank_to(out["strides"], 1))
    out["padding"] = shapes._same_or_valid(out["padding"])
    if "depth_multiplier" in out:
        out["depth_multiplier"] = shapes.as_pair(
            "depth_multiplier", network._blank_to(out["depth_multiplier"], 1))[0]
    out["activation"] = network._activation(out["activation"])
    return out


def describe(layer: dict) -> str:
    """Short description, e.g. '3×3×16, stride 2, padding same, relu'."""
    kind = layer["type"]
    if kind == "BatchNormalization":
        return "each channel: (x − mean) / std × γ + β"
    if kind == "GlobalAveragePooling2D":
        return _("the mean of each channel's feature map")
    if kind not in CONV_KINDS:
        return ""
    kh, kw = shapes.as_pair("kernel_size", layer["kernel_size"])
    strides = layer["strides"]
    strides = shapes.shape_text(strides) if isinstance(strides, list) else str(strides)
    size = f"{kh}×{kw}" + (f"×{layer['filters']}" if "filters" in layer else "")
    text = f"{size}, stride {strides}, padding {layer['padding']}"
    if "depth_multiplier" in layer:
        text += f", depth_multiplier {layer['depth_multiplier']}"
    return text + (f", {layer['activation']}" if layer["activation"] else "")


def output(layer: dict, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output shape, parameter count) of a normalized layer of KINDS, as Keras computes them."""
    kind = layer["type"]
    if kind in SPATIAL_KINDS and len(input_shape) != 3:
        raise ValueError(_("input_shape: {kind} needs an (H, W, C) input, got {shape}",
                           kind=kind, shape=input_shape))
    if kind == "BatchNormalization":
        # γ and β are learned; the moving mean and variance are kept too (Keras counts all 4).
        return tuple(input_shape), 4 * input_shape[-1]
    if kind == "GlobalAveragePooling2D":
        return (input_shape[-1],), 0
    channels = input_shape[-1]
    if kind == "Conv2DTranspose":
        out = shapes.conv_transpose_output_shape(input_shape, layer["filters"],
                                                 layer["kernel_size"], layer["strides"],
                                                 layer["padding"])
        # The kernel maps each input channel to every filter, as Conv2D's does.
        return out, shapes.conv_param_count(layer["kernel_size"], channels, layer["filters"])
    out = shapes.depthwise_output_shape(input_shape, layer["kernel_size"], layer["strides"],
                                        layer["padding"], layer["depth_multiplier"])
    if kind == "DepthwiseConv2D":
        return out, shapes.depthwise_param_count(layer["kernel_size"], channels,
                                                 layer["depth_multiplier"])
    return out[:2] + (layer["filters"],), shapes.separable_param_count(
        layer["kernel_size"], channels, layer["filters"], layer["depth_multiplier"])


def keras_group(layer: dict) -> list[tuple[str, dict]]:
    """The keras.layers (class name, kwargs) that build a normalized layer of KINDS."""
    kind = layer["type"]
    if kind == "BatchNormalization":
        # Keras' default momentum (0.99) needs hundreds of steps before the moving mean and
        # variance that inference uses catch up: a short run (a few thousand pictures, a
        # couple of epochs) then tests far below its training accuracy. 0.9 catches up in
        # tens of steps (PyTorch's default).
        return [(kind, {"momentum": BATCH_NORM_MOMENTUM})]
    if kind not in CONV_KINDS:
        return [(kind, {})]
    kwargs: dict[str, Any] = {}
    if "filters" in layer:
        kwargs["filters"] = layer["filters"]
    kwargs["kernel_size"] = layer["kernel_size"]
    if layer["strides"] != 1:
        kwargs["strides"] = layer["strides"]
    kwargs["padding"] = layer["padding"]
    if layer.get("depth_multiplier", 1) != 1:
        kwargs["depth_multiplier"] = layer["depth_multiplier"]
    if layer["activation"]:
        kwargs["activation"] = layer["activation"]
    return [(kind, kwargs)]


def _pair(value):
    value = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    return value[0] if value[0] == value[1] else list(value)


def _ones(value) -> bool:
    return all(v == 1 for v in (value if isinstance(value, (list, tuple)) else (value,)))


def from_keras(kind: str, config: dict) -> Optional[dict]:
    """The spec entry of a Keras layer of class ``kind`` (one of KINDS), or None when its
    config has no counterpart in the spec (another axis, no bias, dilation, output_padding,
    initializers or regularizers: the spec describes these layers with Keras' defaults)."""
    if kind == "BatchNormalization":
        if config.get("axis") not in (-1, [-1], (-1,), 3, [3]) or \
                not config.get("center", True) or not config.get("scale", True):
            return None
        return {"type": kind}
    if kind == "GlobalAveragePooling2D":
        if config.get("keepdims") or config.get("data_format", "channels_last") \
                != "channels_last":
            return None
        return {"type": kind}
    if kind not in CONV_KINDS:
        return None
    if not config.get("use_bias", True) or not _ones(config.get("dilation_rate", 1)) or \
            config.get("output_padding") is not None or \
            config.get("data_format", "channels_last") != "channels_last":
        return None
    activation = config.get("activation")
    entry: dict[str, Any] = {"type": kind}
    if kind != "DepthwiseConv2D":
        entry["filters"] = config["filters"]
    entry.update(kernel_size=_pair(config["kernel_size"]), strides=_pair(config["strides"]),
                 padding=config["padding"])
    if kind != "Conv2DTranspose":
        entry["depth_multiplier"] = config["depth_multiplier"]
    entry["activation"] = None if activation in (None, "linear") else activation
    return entry


# Kinds whose weights the live view's filter pictures (Conv2D kernels) do not draw.
UNDRAWN_FILTER_KINDS = CONV_KINDS


def undrawn_filter_kinds(spec) -> list[str]:
    """The kinds in UNDRAWN_FILTER_KINDS a spec (or None) uses, in order of first use."""
    kinds: list[str] = []
    for layer in (spec or {}).get("layers", []) if isinstance(spec, dict) else []:
        kind = canonical(layer.get("type")) if isinstance(layer, dict) else None
        if kind in UNDRAWN_FILTER_KINDS and kind not in kinds:
            kinds.append(kind)
    return kinds


def kernel_as_filters(kind: str, kernel):
    """A layer's kernel as float32 (kh, kw, in_channels, feature maps), Conv2D's layout:
    [..., c, j] are the weights feature map j puts on input channel c; None for kinds whose
    feature maps have no such kernel (SeparableConv2D mixes channels after its depthwise step).

    Conv2DTranspose stores (kh, kw, filters, in_channels): swapped. DepthwiseConv2D stores
    (kh, kw, C, M) and feature map c·M + m sees input channel c only: zero on the others.
    """
    import numpy as np

    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4:
        return None
    if kind == "Conv2D":
        return kernel
    if kind == "Conv2DTranspose":
        return kernel.transpose(0, 1, 3, 2)
    if kind == "DepthwiseConv2D":
        kh, kw, channels, multiplier = kernel.shape
        out = np.zeros((kh, kw, channels, channels * multiplier), np.float32)
        for c in range(channels):
            out[:, :, c, c * multiplier:(c + 1) * multiplier] = kernel[:, :, c, :]
        return out
    return None
