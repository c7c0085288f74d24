"""One description of a sequential CNN, shared by the Shape Lab, training and the inspector.

A *spec* is plain JSON-able data::

    {"input_shape": [28, 28, 1],
     "layers": [{"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same",
                 "activation": "relu"}, {"type": "MaxPool2D"}, {"type": "Flatten"},
                {"type": "Dense", "units": 10, "activation": "softmax"}]}

This module is pure Python (no numpy, tensorflow or streamlit): it computes each layer's output
shape and parameter count with :mod:`playground.core.shapes`, and describes the Keras layers
that build the network (``keras_layers``) so that ``playground.training.models.build_model`` and
the copyable code from ``keras_code`` construct exactly the same model. The other way round,
``spec_from_model`` reads the spec back from a built Keras model (duck-typed on its layers and
their configs: no keras import) and ``model_summary`` tables a model's layers beside it.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from playground.core import shapes

# Every layer kind with its fields and defaults; the order is the order of the editor's columns.
LAYER_DEFAULTS: dict[str, dict[str, Any]] = {
    "Conv2D": {"filters": 32, "kernel_size": 3, "strides": 1, "padding": "same",
               "dilation": 1, "activation": "relu"},
    "MaxPool2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "AveragePool2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "Flatten": {},
    "Dense": {"units": 10, "activation": None},
    "Dropout": {"rate": 0.5},
    "ReLU": {},
    "BatchNorm": {},
}
LAYER_TYPES = tuple(LAYER_DEFAULTS)
ACTIVATIONS = (None, "relu", "softmax", "sigmoid", "tanh")
_KERAS_CLASS = {"Conv2D": "Conv2D", "MaxPool2D": "MaxPooling2D",
                "AveragePool2D": "AveragePooling2D", "Flatten": "Flatten", "Dense": "Dense",
                "Dropout": "Dropout", "ReLU": "ReLU", "BatchNorm": "BatchNormalization"}


@dataclass(frozen=True)
class LayerRow:
    """One row of the network table: what a layer does to the shape and how many weights it has."""

    index: int
    type: str
    description: str
    output_shape: Optional[tuple[int, ...]]
    params: int
    error: Optional[str] = None


def _activation(value) -> Optional[str]:
    if value in (None, "", "none", "None", "linear"):
        return None
    if value not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS[1:]} or none, got {value!r}")
    return value


def normalize_layer(layer: dict) -> dict:
    """Fill defaults, coerce numbers, and validate one layer dict. Raises ValueError."""
    if not isinstance(layer, dict):
        raise ValueError(f"layer must be a dict, got {layer!r}")
    kind = layer.get("type")
    if kind not in LAYER_DEFAULTS:
        raise ValueError(f"type must be one of {', '.join(LAYER_TYPES)}, got {kind!r}")
    out: dict[str, Any] = {"type": kind}
    for key, default in LAYER_DEFAULTS[kind].items():
        value = layer.get(key, default)
        if value is None and key != "strides" and key != "activation":
            value = default
        out[key] = value
    if kind == "Conv2D":
        out["filters"] = shapes.as_pair("filters", out["filters"])[0]
        out["kernel_size"] = _int_or_pair("kernel_size", out["kernel_size"])
        # None / "" (an empty editor cell) mean the default 1; 0 is an error, not a default.
        out["strides"] = _int_or_pair("strides", _blank_to(out["strides"], 1))
        out["dilation"] = _int_or_pair("dilation", _blank_to(out["dilation"], 1))
        out["padding"] = shapes.normalize_padding(out["padding"])
        out["activation"] = _activation(out["activation"])
        if max(shapes.as_pair("strides", out["strides"])) > 1 and \
                max(shapes.as_pair("dilation", out["dilation"])) > 1:
            raise ValueError("strides: Keras' Conv2D cannot combine strides > 1 with dilation > 1")
    elif kind in ("MaxPool2D", "AveragePool2D"):
        out["pool_size"] = _int_or_pair("pool_size", out["pool_size"])
        if _blank_to(out["strides"], None) is not None:
            out["strides"] = _int_or_pair("strides", out["strides"])
        else:
            out["strides"] = None
        out["padding"] = shapes.normalize_padding(out["padding"])
        if isinstance(out["padding"], int):
            raise ValueError(
                f"padding: pooling layers take 'valid' or 'same', got {out['padding']!r}")
    elif kind == "Dense":
        out["units"] = shapes.as_pair("units", out["units"])[0]
        out["activation"] = _activation(out["activation"])
    elif kind == "Dropout":
        try:
            rate = float(out["rate"])
        except (TypeError, ValueError):
            raise ValueError(f"rate must be a number in [0, 1), got {out['rate']!r}") from None
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate}")
        out["rate"] = rate
    return out


def _blank_to(value, default):
    return default if value is None or value == "" else value


def _int_or_pair(name: str, value):
    pair = shapes.as_pair(name, value)
    return pair[0] if pair[0] == pair[1] else list(pair)


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return shapes.shape_text(value)
    return str(value)


def describe_layer(layer: dict) -> str:
    """Short human description, e.g. ``3×3×32, stride 1, same, relu``."""
    kind = layer["type"]
    if kind == "Conv2D":
        k = shapes.as_pair("kernel_size", layer["kernel_size"])
        text = f"{k[0]}×{k[1]}×{layer['filters']}, stride {_fmt(layer['strides'])}, " \
               f"padding {layer['padding']}"
        if layer["dilation"] != 1:
            text += f", dilation {_fmt(layer['dilation'])}"
        return text + (f", {layer['activation']}" if layer["activation"] else "")
    if kind in ("MaxPool2D", "AveragePool2D"):
        strides = layer["strides"] if layer["strides"] is not None else layer["pool_size"]
        ph, pw = shapes.as_pair("pool_size", layer["pool_size"])
        return f"{ph}×{pw} window, stride {_fmt(strides)}, padding {layer['padding']}"
    if kind == "Dense":
        return f"{layer['units']} units" + (f", {layer['activation']}" if layer["activation"]
                                            else "")
    if kind == "Dropout":
        return f"rate {layer['rate']:g}"
    if kind == "BatchNorm":
        return "each channel: (x − mean) / std × γ + β"
    return ""


def layer_output(layer: dict, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output_shape, parameter count) of one normalized layer, as Keras computes them."""
    kind = layer["type"]
    if kind in ("Conv2D", "MaxPool2D", "AveragePool2D") and len(input_shape) != 3:
        raise ValueError(f"input_shape: {kind} needs an (H, W, C) input, got {input_shape}")
    if kind == "Conv2D":
        out = shapes.conv_output_shape(input_shape, layer["filters"], layer["kernel_size"],
                                       layer["strides"], layer["padding"], layer["dilation"])
        return out, shapes.conv_param_count(layer["kernel_size"], input_shape[-1],
                                            layer["filters"])
    if kind in ("MaxPool2D", "AveragePool2D"):
        return shapes.pool_output_shape(input_shape, layer["pool_size"], layer["strides"],
                                        layer["padding"]), 0
    if kind == "Flatten":
        size = 1
        for dim in input_shape:
            size *= dim
        return (size,), 0
    if kind == "Dense":
        # Keras' Dense acts on the last axis only, whatever the rank.
        return tuple(input_shape[:-1]) + (layer["units"],), \
            input_shape[-1] * layer["units"] + layer["units"]
    if kind == "BatchNorm":
        # γ and β are learned; the moving mean and variance are kept too (Keras counts all 4).
        return tuple(input_shape), 4 * input_shape[-1]
    return tuple(input_shape), 0


def input_shape_of(spec: dict) -> tuple[int, int, int]:
    shape = spec.get("input_shape") if isinstance(spec, dict) else None
    if not isinstance(shape, (list, tuple)) or len(shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C), got {shape!r}")
    return tuple(shapes.as_pair(f"input_shape[{i}]", v)[0] for i, v in enumerate(shape))


def layer_rows(spec: dict) -> list[LayerRow]:
    """One LayerRow per layer. After the first bad layer, later rows carry no shape."""
    shape: Optional[tuple[int, ...]] = input_shape_of(spec)
    rows = []
    for i, raw in enumerate(spec.get("layers", [])):
        kind = raw.get("type", "?") if isinstance(raw, dict) else "?"
        if shape is None:
            rows.append(LayerRow(i, kind, "", None, 0, "follows a layer that does not fit"))
            continue
        try:
            layer = normalize_layer(raw)
            out, params = layer_output(layer, shape)
            rows.append(LayerRow(i, kind, describe_layer(layer), out, params))
            shape = out
        except ValueError as err:
            rows.append(LayerRow(i, kind, "", None, 0, str(err)))
            shape = None
    return rows


def validate(spec: dict) -> dict:
    """Return a normalized deep copy of spec; raise ValueError quoting the first bad layer."""
    normalized = {"input_shape": list(input_shape_of(spec)), "layers": []}
    for key in ("name", "description"):
        if key in spec:
            normalized[key] = spec[key]
    shape: tuple[int, ...] = tuple(normalized["input_shape"])
    for i, raw in enumerate(spec.get("layers", [])):
        try:
            layer = normalize_layer(raw)
            shape, _ = layer_output(layer, shape)
        except ValueError as err:
            raise ValueError(f"layer {i + 1}: {err}") from None
        normalized["layers"].append(layer)
    return normalized


def total_params(spec: dict) -> int:
    return sum(row.params for row in layer_rows(spec))


def output_shape(spec: dict) -> tuple[int, ...]:
    """Shape of the network's output (without the batch axis)."""
    shape: tuple[int, ...] = input_shape_of(spec)
    for layer in validate(spec)["layers"]:
        shape, _ = layer_output(layer, shape)
    return shape


def keras_layers(spec: dict) -> list[list[tuple[str, dict]]]:
    """For each spec layer, the keras.layers (class name, kwargs) that build it.

    A Conv2D with explicit padding p > 0 becomes ZeroPadding2D(p) then a VALID Conv2D, since
    Keras' Conv2D only knows 'valid' and 'same'; the last entry of each group is the layer
    whose output shape and parameter count the table shows.
    """
    groups = []
    for layer in validate(spec)["layers"]:
        kind = layer["type"]
        cls = _KERAS_CLASS[kind]
        if kind == "Conv2D":
            group = []
            padding = layer["padding"]
            if isinstance(padding, int):
                if padding > 0:
                    group.append(("ZeroPadding2D", {"padding": padding}))
                padding = "valid"
            kwargs = {"filters": layer["filters"], "kernel_size": layer["kernel_size"]}
            if layer["strides"] != 1:
                kwargs["strides"] = layer["strides"]
            kwargs["padding"] = padding
            if layer["dilation"] != 1:
                kwargs["dilation_rate"] = layer["dilation"]
            if layer["activation"]:
                kwargs["activation"] = layer["activation"]
            group.append((cls, kwargs))
        elif kind in ("MaxPool2D", "AveragePool2D"):
            kwargs = {"pool_size": layer["pool_size"]}
            if layer["strides"] is not None:
                kwargs["strides"] = layer["strides"]
            kwargs["padding"] = layer["padding"]
            group = [(cls, kwargs)]
        elif kind == "Dense":
            kwargs = {"units": layer["units"]}
            if layer["activation"]:
                kwargs["activation"] = layer["activation"]
            group = [(cls, kwargs)]
        elif kind == "Dropout":
            group = [(cls, {"rate": layer["rate"]})]
        else:
            group = [(cls, {})]
        groups.append(group)
    return groups


def model_layers(model) -> list:
    """A Keras model's layers without its InputLayer (duck-typed: core imports no keras)."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _pair(value):
    value = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    return value[0] if value[0] == value[1] else list(value)


def _activation_name(config) -> Optional[str]:
    name = config.get("activation")
    return None if name in (None, "linear") else name


def spec_layer(layer, padding=None) -> Optional[dict]:
    """The spec entry (not normalized) describing one Keras layer, or None when the spec
    language has no counterpart. ``padding``: pixels of a ZeroPadding2D folded into a conv.
    Duck-typed on the layer's class name and ``get_config()``: no keras import."""
    config = layer.get_config()
    kind = type(layer).__name__
    if kind == "Conv2D":
        if not config.get("use_bias", True) or config.get("groups", 1) != 1:
            return None
        if padding is None:
            padding = config["padding"]
        entry = {"type": "Conv2D", "filters": config["filters"],
                 "kernel_size": _pair(config["kernel_size"]),
                 "strides": _pair(config["strides"]), "padding": padding,
                 "dilation": _pair(config["dilation_rate"]),
                 "activation": _activation_name(config)}
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        entry = {"type": "MaxPool2D" if kind == "MaxPooling2D" else "AveragePool2D",
                 "pool_size": _pair(config["pool_size"]),
                 "strides": _pair(config["strides"]) if config.get("strides") else None,
                 "padding": config["padding"]}
    elif kind == "Flatten":
        entry = {"type": "Flatten"}
    elif kind == "Dense":
        if not config.get("use_bias", True):
            return None
        entry = {"type": "Dense", "units": config["units"],
                 "activation": _activation_name(config)}
    elif kind == "Dropout":
        entry = {"type": "Dropout", "rate": config["rate"]}
    elif kind == "ReLU":
        if config.get("max_value") is not None or config.get("negative_slope", 0) or \
                config.get("threshold", 0):
            return None
        entry = {"type": "ReLU"}
    elif kind == "BatchNormalization":
        if config.get("axis") not in (-1, [-1], (-1,), 3, [3]) or \
                not config.get("center", True) or not config.get("scale", True):
            return None
        entry = {"type": "BatchNorm"}
    else:
        return None
    return entry


def spec_from_model(model) -> Optional[tuple[dict, list[int]]]:
    """The network spec (playground.core.network) a Keras model corresponds to, if there is one.

    Returns (validated spec, for each spec layer the index in ``model.layers`` (without the
    input layer) of the Keras layer whose output it describes), or None when some layer has no
    counterpart in the spec language. Leading parameter-free preprocessing layers (crop,
    rescale, resize) are skipped: the spec's input is their output.
    """
    layers = model_layers(model)
    start = 0
    while start < len(layers) and type(layers[start]).__name__ in (
            "CenterCrop", "RandomCrop", "Rescaling", "Resizing"):
        start += 1
    if start >= len(layers):
        return None
    input_shape = (model.inputs[0].shape[1:] if start == 0
                   else layers[start - 1].output.shape[1:])
    if len(input_shape) != 3 or None in input_shape:
        return None
    spec_layers, index = [], []
    pending_pad = None
    for i in range(start, len(layers)):
        layer = layers[i]
        config = layer.get_config()
        kind = type(layer).__name__
        if pending_pad is not None and kind != "Conv2D":
            return None
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = config["padding"]
            if not top == bottom == left == right:
                return None
            pending_pad = top
            continue
        padding = None
        if kind == "Conv2D" and pending_pad is not None:
            if config["padding"] != "valid":
                return None
            padding, pending_pad = pending_pad, None
        entry = spec_layer(layer, padding)
        if entry is None:
            return None
        spec_layers.append(entry)
        index.append(i)
    if pending_pad is not None:
        return None
    try:
        spec = validate({"input_shape": [int(d) for d in input_shape],
                                 "layers": spec_layers})
    except ValueError:
        return None
    return spec, index


def probe_model(model, kinds: Optional[Sequence[str]] = None, last_input: bool = False):
    """keras.Model(input -> [layer outputs..., the model's output(, the last layer's input)]).

    Layer outputs: every layer's (without the InputLayer), or only those whose class name is in
    ``kinds`` (e.g. ("Conv2D", "MaxPooling2D")). ``last_input`` adds the input of the last
    layer, from which Grad-CAM recomputes the pre-softmax scores. keras is imported here, when
    a model exists anyway.
    """
    import keras

    layers = [layer for layer in model_layers(model)
              if kinds is None or type(layer).__name__ in kinds]
    outputs = [layer.output for layer in layers] + [model.outputs[0]]
    if last_input:
        outputs.append(model_layers(model)[-1].input)
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_probe")


# model_summary's keys in reading order (a summary saved as JSON comes back with sorted keys).
SUMMARY_COLUMNS = ("layer", "type", "output shape", "parameters", "Shape Lab shape",
                   "Shape Lab parameters")


def model_summary(model) -> list[dict]:
    """The model summary: one dict per Keras layer.

    Keys: "layer" (name), "type", "output shape" (e.g. '28×28×32'), "parameters" (Keras'
    count_params), and, when the model corresponds to a network spec, "Shape Lab shape" and
    "Shape Lab parameters" from ``network.layer_rows`` (None for layers the spec folds into
    the next one, like the ZeroPadding2D of an explicitly padded conv).
    """
    layers = model_layers(model)
    matched = spec_from_model(model)
    lab: dict[int, Any] = {}
    if matched is not None:
        spec, index = matched
        for row, i in zip(layer_rows(spec), index):
            lab[i] = row
    rows = []
    for i, layer in enumerate(layers):
        row = {"layer": layer.name, "type": type(layer).__name__,
               "output shape": shapes.shape_text(layer.output.shape[1:]),
               "parameters": int(layer.count_params())}
        if matched is not None:
            lab_row = lab.get(i)
            row["Shape Lab shape"] = shapes.shape_text(lab_row.output_shape) if lab_row else None
            row["Shape Lab parameters"] = lab_row.params if lab_row else None
        rows.append(row)
    return rows


def _py(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_py(v) for v in value) + ")"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def keras_code(spec: dict, name: str = "model") -> str:
    """Runnable Keras code that builds exactly ``models.build_model(spec)``."""
    lines = ["import keras", "from keras import layers", "",
             f"{name} = keras.Sequential(["]
    shape = ", ".join(str(v) for v in input_shape_of(spec))
    lines.append(f"    keras.Input(shape=({shape})),")
    for group in keras_layers(spec):
        for cls, kwargs in group:
            args = ", ".join(f"{k}={_py(v)}" for k, v in kwargs.items())
            lines.append(f"    layers.{cls}({args}),")
    lines.append("])")
    lines.append(f"{name}.summary()")
    return "\n".join(lines) + "\n"


def to_json(spec: dict) -> str:
    """Compact JSON (for URLs and saved runs)."""
    return json.dumps(spec, separators=(",", ":"))


def from_json(text: str) -> dict:
    """Parse and validate a spec; raises ValueError with a readable message."""
    try:
        spec = json.loads(text)
    except (TypeError, ValueError) as err:
        raise ValueError(f"spec is not valid JSON: {err}") from None
    if not isinstance(spec, dict):
        raise ValueError("spec must be a JSON object with input_shape and layers")
    return validate(spec)


def _conv(filters, kernel_size, padding="same", activation="relu", strides=1):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size,
            "strides": strides, "padding": padding, "dilation": 1, "activation": activation}


def _pool(size=2, strides=None, padding="same"):
    return {"type": "MaxPool2D", "pool_size": size, "strides": strides, "padding": padding}


_FLAT = {"type": "Flatten"}
_SOFTMAX10 = {"type": "Dense", "units": 10, "activation": "softmax"}

# The course's networks (display name -> spec). Treat as read-only: use preset() for a copy.
PRESETS: dict[str, dict] = {
    "Course CNN (2 conv)": {
        "description": "The course's TensorFlow MNIST CNN: two 3×3 conv layers with 2×2 "
                       "max-pooling, then a 10-way softmax.",
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _FLAT, dict(_SOFTMAX10)],
    },
    "Course deep CNN (3 conv)": {
        "description": "The course's deeper net: three conv blocks 32/64/128 with pooling and "
                       "dropout, a 625-unit dense layer, dropout, softmax.",
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _conv(64, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _conv(128, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _FLAT, {"type": "Dense", "units": 625, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.5}, dict(_SOFTMAX10)],
    },
    "Keras Sequential CNN": {
        "description": "The course's Keras Sequential model: conv 32/64/128 with pooling, "
                       "dense 256, dropout 0.4, softmax (619,786 parameters).",
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _conv(128, 3), _pool(),
                   _FLAT, {"type": "Dense", "units": 256, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.4}, dict(_SOFTMAX10)],
    },
    "32×32×3 image, six 5×5 filters": {
        "description": "The lecture's example: a 32×32×3 image and six 5×5×3 filters give a "
                       "28×28×6 stack of feature maps (456 parameters).",
        "input_shape": [32, 32, 3],
        "layers": [_conv(6, 5, padding="valid", activation=None)],
    },
    "Fast MNIST CNN": {
        "description": "The playground's default, built for speed on a CPU: a 3×3×16 conv "
                       "with stride 2 (no pooling needed at full size), a 3×3×32 conv, 2×2 "
                       "max-pool, dense 256, softmax. With its one-cycle settings it passes "
                       "99 % test accuracy in three epochs (~26 s on 2 CPU cores).",
        "input_shape": [28, 28, 1],
        "layers": [_conv(16, 3, padding="valid", strides=2), _conv(32, 3, padding="valid"),
                   _pool(2, 2, "valid"), _FLAT,
                   {"type": "Dense", "units": 256, "activation": "relu"}, dict(_SOFTMAX10)],
    },
    "ConvNetJS MNIST demo": {
        "description": "Karpathy's ConvNetJS MNIST demo: 24×24 crops, conv 5×5×8 pad 2, "
                       "pool 2, conv 5×5×16 pad 2, pool 3 stride 3, softmax.",
        "input_shape": [24, 24, 1],
        "layers": [_conv(8, 5, padding=2), _pool(2, 2, "valid"), _conv(16, 5, padding=2),
                   _pool(3, 3, "valid"), _FLAT, dict(_SOFTMAX10)],
    },
    "Fast Fashion-MNIST CNN": {
        "description": "The playground's Fashion-MNIST default: the fast MNIST layout with twice "
                       "the filters (3×3×32 stride 2, 3×3×64), 2×2 max-pool, dense 256 with "
                       "dropout, softmax over the 10 kinds of clothes.",
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3, padding="valid", strides=2), _conv(64, 3, padding="valid"),
                   _pool(2, 2, "valid"), _FLAT,
                   {"type": "Dense", "units": 256, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.3}, dict(_SOFTMAX10)],
    },
    "Course CIFAR-10 CNN": {
        "description": "The course's CIFAR-10 network (its TensorFlow and Keras versions): conv "
                       "3×3×32 SAME, 2×2 max-pool, conv 3×3×64 SAME, 2×2 max-pool, flatten, "
                       "10-way softmax on 32×32 colour pictures.",
        "input_shape": [32, 32, 3],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _FLAT, dict(_SOFTMAX10)],
    },
    "Fast colour CNN": {
        "description": "A small, fast network for 32×32 colour pictures: conv 3×3×16 stride 2, "
                       "conv 3×3×32, 2×2 max-pool, dense 64, softmax.",
        "input_shape": [32, 32, 3],
        "layers": [_conv(16, 3, strides=2), _conv(32, 3), _pool(2, 2, "valid"), _FLAT,
                   {"type": "Dense", "units": 64, "activation": "relu"}, dict(_SOFTMAX10)],
    },
}


def preset(name: str) -> dict:
    """A deep copy of a preset spec (so callers may edit it)."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return copy.deepcopy(PRESETS[name])


def pipeline_stages(spec: dict) -> list[tuple[str, tuple[int, ...]]]:
    """The network as the course draws it: (stage label, output shape) from the input on.

    A Conv2D or Dense with an activation is split into two stages (conv, then ReLU / softmax)
    so the picture shows the pipeline input -> conv -> ReLU -> pool -> ... -> FC -> softmax.
    """
    shape: tuple[int, ...] = input_shape_of(spec)
    stages = [("input", shape)]
    names = {"Conv2D": "conv", "MaxPool2D": "max pool", "AveragePool2D": "avg pool",
             "Flatten": "flatten", "Dense": "fully connected", "Dropout": "dropout",
             "ReLU": "ReLU", "BatchNorm": "batch norm"}
    for layer in validate(spec)["layers"]:
        shape, _ = layer_output(layer, shape)
        label = f"{names[layer['type']]}\n{describe_layer(layer).split(', padding')[0]}" \
            if layer["type"] in ("Conv2D", "MaxPool2D", "AveragePool2D") else names[layer["type"]]
        if layer["type"] == "Dense":
            label = f"fully connected\n{layer['units']} units"
        stages.append((label, shape))
        if layer.get("activation"):
            stages.append((layer["activation"] if layer["activation"] != "relu" else "ReLU",
                           shape))
    return stages
