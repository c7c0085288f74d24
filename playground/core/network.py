"""One description of a sequential CNN, shared by the Shape Lab, training and the inspector.

A *spec* is plain JSON-able data::

    {"input_shape": [28, 28, 1],
     "layers": [{"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same",
                 "activation": "relu"}, {"type": "MaxPool2D"}, {"type": "Flatten"},
                {"type": "Dense", "units": 10, "activation": "softmax"}]}

This module is pure Python (no numpy, tensorflow or streamlit): it computes each layer's output
shape and parameter count with :mod:`playground.core.shapes`, and describes the Keras layers
that build the network (``keras_layers``) so that ``playground.training.models.build_model`` and
the copyable code from ``keras_code`` construct exactly the same model.

Conv2D and Dense layers may also carry the Keras chapter's options (absent = Keras' default, so
older specs and links are unchanged)::

    "kernel_initializer": "he_normal"                    # a name from INITIALIZERS
    "kernel_initializer": {"class": "RandomNormal", "stddev": 0.01}   # (+ "mean", default 0)
    "bias_initializer": {"class": "Constant", "value": 2.0}
    "kernel_regularizer": {"l2": 0.001}                  # {"l1": f}, {"l2": f} or both
    "bias_regularizer": {"l1": 0.01, "l2": 0.01}

Only these fixed names and classes are accepted, every number is bounded, and nothing from a
spec is ever evaluated: ``keras_layers`` hands Keras its own config dicts of them
(``{"class_name": "L2", "config": {"l2": 0.001}}``), which ``keras.layers`` deserialize from
Keras' built-in initializers and regularizers. The other way round,
``spec_from_model`` reads the spec back from a built Keras model (duck-typed on its layers and
their configs: no keras import) and ``model_summary`` tables a model's layers beside it.
"""
from __future__ import annotations

import copy
import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from playground.core import layers as _layers
from playground.core import shapes
from playground.i18n import N_, _

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
    **_layers.LAYER_DEFAULTS,  # BatchNormalization and the other modern layers
}
LAYER_TYPES = tuple(LAYER_DEFAULTS)
# Older spec names still read (saved runs, links), normalised to the Keras name.
LAYER_ALIASES = _layers.ALIASES
BATCH_NORM_MOMENTUM = _layers.BATCH_NORM_MOMENTUM  # of the moving statistics
ACTIVATIONS = (None, "relu", "softmax", "sigmoid", "tanh")
_KERAS_CLASS = {"Conv2D": "Conv2D", "MaxPool2D": "MaxPooling2D",
                "AveragePool2D": "AveragePooling2D", "Flatten": "Flatten", "Dense": "Dense",
                "Dropout": "Dropout", "ReLU": "ReLU",
                **{kind: kind for kind in _layers.KINDS}}


# The Keras chapter's layer options, on Conv2D and Dense only. Absent (or None) = Keras' default.
LAYER_OPTIONS = ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                 "bias_regularizer")
OPTION_LAYERS = ("Conv2D", "Dense")
# Keras' defaults: a spec naming them is normalized to "absent" (same model, shorter links).
OPTION_DEFAULTS = {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                   "kernel_regularizer": None, "bias_regularizer": None}
# Initializers without arguments: spec name -> Keras class (the whole whitelist of names).
INITIALIZERS = {"glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal",
                "he_normal": "HeNormal", "he_uniform": "HeUniform",
                "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform",
                "orthogonal": "Orthogonal", "zeros": "Zeros", "ones": "Ones"}
# Initializers with arguments: class -> {argument: (default, low, high)}; stddev must be > 0.
INITIALIZER_ARGS = {"RandomNormal": {"mean": (0.0, -1000.0, 1000.0),
                                     "stddev": (0.05, 0.0, 1000.0)},
                    "Constant": {"value": (0.0, -1000.0, 1000.0)}}
REGULARIZER_FACTORS = ("l1", "l2")
MAX_FACTOR = 100.0

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
        raise ValueError(_("activation must be one of {choices} or none, got {value}",
                           choices=", ".join(ACTIVATIONS[1:]), value=repr(value)))
    return value


def _quote(value, limit: int = 60) -> str:
    """repr(value), cut short: a hostile spec must not make a page-long message."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits
        text = f"a {type(value).__name__} too long to print"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _bounded(name: str, value, low: float, high: float, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(_("{name} must be a number, got {value}", name=name,
                           value=_quote(value)))
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        number = math.inf
    if not (math.isfinite(number) and (number > low if open_low else number >= low)
            and number <= high):
        where = f"({low:g}, {high:g}]" if open_low else f"[{low:g}, {high:g}]"
        raise ValueError(_("{name} must be in {where}, got {value}", name=name, where=where,
                           value=_quote(value)))
    return number


def _initializer(key: str, value):
    """A spec initializer normalized (None for Keras' default); ValueError names ``key``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value not in INITIALIZERS:
            raise ValueError(_("{name} must be one of {choices}, RandomNormal or Constant, "
                               "got {value}", name=key, choices=", ".join(INITIALIZERS),
                               value=_quote(value)))
        return None if value == OPTION_DEFAULTS[key] else value
    if not isinstance(value, dict) or value.get("class") not in INITIALIZER_ARGS:
        raise ValueError(_("{name} must be a name or {form}, got {value}", name=key,
                           form='{"class": "RandomNormal" or "Constant", ...}',
                           value=_quote(value)))
    cls = value["class"]
    args = INITIALIZER_ARGS[cls]
    unknown = [k for k in value if k != "class" and k not in args]
    if unknown:
        raise ValueError(_("{name}: {cls} takes {args}, got {value}", name=key, cls=cls,
                           args=", ".join(args), value=_quote(unknown[0])))
    out: dict[str, Any] = {"class": cls}
    for name, (default, low, high) in args.items():
        number = _bounded(f"{key}: {name}", value.get(name, default), low, high,
                          open_low=name == "stddev")
        if name != "mean" or number != 0.0:  # a zero mean is left out: Keras' default
            out[name] = number
    return out


def _regularizer(key: str, value):
    """A spec regularizer ({"l1": f}, {"l2": f} or both) normalized; None for none."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict) or not value or \
            any(k not in REGULARIZER_FACTORS for k in value):
        raise ValueError(_("{name} must be {l1}, {l2} or both, got {value}", name=key,
                           l1='{"l1": factor}', l2='{"l2": factor}', value=_quote(value)))
    return {name: _bounded(f"{key}: {name}", value[name], 0.0, MAX_FACTOR)
            for name in REGULARIZER_FACTORS if name in value}


def normalize_option(key: str, value):
    """One of LAYER_OPTIONS normalized: None for Keras' default, else its canonical JSON value.
    Raises a one-line ValueError naming ``key`` for anything off the whitelist."""
    if key not in LAYER_OPTIONS:
        raise ValueError(f"option must be one of {', '.join(LAYER_OPTIONS)}, got {_quote(key)}")
    if key.endswith("_initializer"):
        return _initializer(key, value)
    return _regularizer(key, value)


def _num_text(value) -> str:
    return repr(float(value))


def option_text(value) -> str:
    """An option as the table and the descriptions write it: 'he_normal',
    'RandomNormal(stddev=0.01)', 'Constant(2.0)', 'L2(0.001)', 'L1L2(l1=0.01, l2=0.01)';
    '' for None. Anything else (from a hand-made link) is written as its JSON."""
    try:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("class") == "RandomNormal":
            mean = f"mean={_num_text(value['mean'])}, " if value.get("mean") else ""
            return f"RandomNormal({mean}stddev={_num_text(value.get('stddev', 0.05))})"
        if isinstance(value, dict) and value.get("class") == "Constant":
            return f"Constant({_num_text(value.get('value', 0.0))})"
        if isinstance(value, dict) and value and all(k in REGULARIZER_FACTORS for k in value):
            if len(value) == 2:
                return f"L1L2(l1={_num_text(value['l1'])}, l2={_num_text(value['l2'])})"
            ((name, factor),) = value.items()
            return f"{name.upper()}({_num_text(factor)})"
    except (TypeError, ValueError, OverflowError):
        pass
    return json.dumps(value)


_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
# option_text's forms (and Keras' keyword spellings): pattern -> the spec value from its numbers.
_OPTION_FORMS = (
    (re.compile(rf"RandomNormal\(\s*(?:mean\s*=\s*{_NUM}\s*,\s*)?(?:stddev\s*=\s*)?{_NUM}\s*\)"),
     lambda mean, std: {"class": "RandomNormal", **({"mean": float(mean)} if mean else {}),
                        "stddev": float(std)}),
    (re.compile(rf"Constant\(\s*(?:value\s*=\s*)?{_NUM}\s*\)"),
     lambda v: {"class": "Constant", "value": float(v)}),
    (re.compile(rf"L1\(\s*(?:l1\s*=\s*)?{_NUM}\s*\)", re.IGNORECASE),
     lambda f: {"l1": float(f)}),
    (re.compile(rf"L2\(\s*(?:l2\s*=\s*)?{_NUM}\s*\)", re.IGNORECASE),
     lambda f: {"l2": float(f)}),
    (re.compile(rf"L1L2\(\s*(?:l1\s*=\s*)?{_NUM}\s*,\s*(?:l2\s*=\s*)?{_NUM}\s*\)",
                re.IGNORECASE), lambda a, b: {"l1": float(a), "l2": float(b)}),
)


def option_from_text(text):
    """option_text's inverse (for the table's cells): None for '' or 'none'; text in none of
    its forms is passed on unchanged, for ``normalize_option`` to refuse with a message.
    Numbers are read by float() from what a regular expression matched: nothing is evaluated."""
    if text is None:
        return None
    text = str(text).strip()
    if text.lower() in ("", "none"):
        return None
    for pattern, build in _OPTION_FORMS:
        match = pattern.fullmatch(text)
        if match:
            return build(*match.groups())
    return text


def _keras_option(key: str, value):
    """A normalized option as the value keras.layers takes: the name, or Keras' own config
    dict ({"class_name", "config"}) of a built-in initializer or regularizer."""
    if isinstance(value, str):
        return value
    if key.endswith("_initializer"):
        return {"class_name": value["class"],
                "config": {k: v for k, v in value.items() if k != "class"}}
    cls = "L1L2" if len(value) == 2 else next(iter(value)).upper()
    return {"class_name": cls, "config": dict(value)}


def _float32_text(value: float) -> float:
    """The shortest decimal with the same float32 value: Keras keeps an L1 factor as a float32
    tensor, so L1(0.3) reports 0.30000001192092896; the spec reads back 0.3."""
    try:
        single = struct.pack("<f", value)
    except (OverflowError, struct.error):
        return value
    for digits in range(1, 10):
        short = float(f"{value:.{digits}g}")
        if struct.pack("<f", short) == single:
            return short
    return value


def _option_from_config(key: str, config: dict):
    """The spec value of a Keras layer's initializer or regularizer config, None for Keras'
    default, or for one the spec language cannot say (a seed, an Orthogonal gain, another
    class): the spec then describes the layer's shape with Keras' default there."""
    found = config.get(key)
    if isinstance(found, str):
        return _safe_option(key, found)
    if not isinstance(found, dict) or not isinstance(found.get("config") or {}, dict):
        return None
    cls, args = found.get("class_name"), found.get("config") or {}
    if key.endswith("_initializer"):
        if args.get("seed") is not None:
            return None
        args = {k: v for k, v in args.items() if k != "seed"}
        for name, keras_cls in INITIALIZERS.items():
            if cls == keras_cls:
                plain = all(v is None for k, v in args.items() if k != "gain") and \
                    args.get("gain", 1.0) == 1.0
                return _safe_option(key, name) if plain else None
        if cls in INITIALIZER_ARGS and all(k in INITIALIZER_ARGS[cls] for k in args):
            return _safe_option(key, {"class": cls, **args})
        return None
    if cls in ("L1", "L2", "L1L2") and args and all(k in REGULARIZER_FACTORS for k in args):
        wanted = ("l1", "l2") if cls == "L1L2" else (cls.lower(),)
        if all(k in args for k in wanted):
            factors = {k: args[k] for k in wanted}
            if all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in factors.values()):
                return _safe_option(key, {k: _float32_text(float(v)) for k, v in factors.items()})
    return None


def _safe_option(key: str, value):
    try:
        return normalize_option(key, value)
    except (TypeError, ValueError):
        return None


def normalize_layer(layer: dict) -> dict:
    """Fill defaults, coerce numbers, and validate one layer dict. Raises ValueError."""
    if not isinstance(layer, dict):
        raise ValueError(f"layer must be a dict, got {layer!r}")
    kind = _layers.canonical(layer.get("type"))
    if not isinstance(kind, str) or kind not in LAYER_DEFAULTS:  # a list is no key
        raise ValueError(_("type must be one of {choices}, got {value}",
                           choices=", ".join(LAYER_TYPES), value=repr(kind)))
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
            raise ValueError(_("strides: Keras' Conv2D cannot combine strides > 1 with "
                               "dilation > 1"))
    elif kind in ("MaxPool2D", "AveragePool2D"):
        out["pool_size"] = _int_or_pair("pool_size", out["pool_size"])
        if _blank_to(out["strides"], None) is not None:
            out["strides"] = _int_or_pair("strides", out["strides"])
        else:
            out["strides"] = None
        out["padding"] = shapes.normalize_padding(out["padding"])
        if isinstance(out["padding"], int):
            raise ValueError(_("padding: pooling layers take 'valid' or 'same', got {value}",
                               value=repr(out["padding"])))
    elif kind == "Dense":
        out["units"] = shapes.as_pair("units", out["units"])[0]
        out["activation"] = _activation(out["activation"])
    elif kind == "Dropout":
        try:
            rate = float(out["rate"])
        except (TypeError, ValueError):
            raise ValueError(_("rate must be a number in [0, 1), got {value}",
                               value=repr(out["rate"]))) from None
        if not 0.0 <= rate < 1.0:
            raise ValueError(_("rate must be in [0, 1), got {value}", value=rate))
        out["rate"] = rate
    elif kind in _layers.KINDS:
        _layers.normalize(out)
    if kind in OPTION_LAYERS:
        for key in LAYER_OPTIONS:
            value = normalize_option(key, layer.get(key))
            if value is not None:
                out[key] = value
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


def options_text(layer: dict) -> str:
    """The layer's non-default options, e.g. ', kernel RandomNormal(stddev=0.01) + L2(0.001),
    bias Constant(2.0)'; '' when it has none."""
    parts = []
    for part in ("kernel", "bias"):
        words = [option_text(layer[key]) for key in (f"{part}_initializer", f"{part}_regularizer")
                 if layer.get(key) is not None]
        if words:
            parts.append(f"{part} {' + '.join(words)}")
    return "".join(f", {part}" for part in parts)


def describe_layer(layer: dict) -> str:
    """Short human description, e.g. ``3×3×32, stride 1, same, relu``, then the non-default
    initializers and regularizers (``options_text``)."""
    kind = layer["type"]
    if kind in OPTION_LAYERS:
        return _describe_layer(layer) + options_text(layer)
    return _describe_layer(layer)


def _describe_layer(layer: dict) -> str:
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
    return _layers.describe(layer)


def layer_output(layer: dict, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output_shape, parameter count) of one normalized layer, as Keras computes them."""
    kind = layer["type"]
    if kind in ("Conv2D", "MaxPool2D", "AveragePool2D") and len(input_shape) != 3:
        raise ValueError(_("input_shape: {kind} needs an (H, W, C) input, got {shape}",
                           kind=kind, shape=input_shape))
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
    if kind in _layers.KINDS:
        return _layers.output(layer, input_shape)
    return tuple(input_shape), 0


def input_shape_of(spec: dict) -> tuple[int, int, int]:
    shape = spec.get("input_shape") if isinstance(spec, dict) else None
    if not isinstance(shape, (list, tuple)) or len(shape) != 3:
        raise ValueError(_("input_shape must be (H, W, C), got {value}", value=repr(shape)))
    return tuple(shapes.as_pair(f"input_shape[{i}]", v)[0] for i, v in enumerate(shape))


def layer_rows(spec: dict) -> list[LayerRow]:
    """One LayerRow per layer. After the first bad layer, later rows carry no shape."""
    shape: Optional[tuple[int, ...]] = input_shape_of(spec)
    rows = []
    for i, raw in enumerate(spec.get("layers", [])):
        kind = _layers.canonical(raw.get("type", "?")) if isinstance(raw, dict) else "?"
        if shape is None:
            rows.append(LayerRow(i, kind, "", None, 0, _("follows a layer that does not fit")))
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
            shape, _params = layer_output(layer, shape)
        except ValueError as err:
            raise ValueError(_("layer {index}: {error}", index=i + 1, error=err)) from None
        normalized["layers"].append(layer)
    return normalized


def total_params(spec: dict) -> int:
    return sum(row.params for row in layer_rows(spec))


def output_shape(spec: dict) -> tuple[int, ...]:
    """Shape of the network's output (without the batch axis)."""
    shape: tuple[int, ...] = input_shape_of(spec)
    for layer in validate(spec)["layers"]:
        shape, _params = layer_output(layer, shape)
    return shape


def keras_layers(spec: dict) -> list[list[tuple[str, dict]]]:
    """For each spec layer, the keras.layers (class name, kwargs) that build it.

    A Conv2D with explicit padding p > 0 becomes ZeroPadding2D(p) then a VALID Conv2D, since
    Keras' Conv2D only knows 'valid' and 'same'; the last entry of each group is the layer
    whose output shape and parameter count the table shows. Initializers and regularizers are
    given as their name or as Keras' own config dict (``{"class_name": "RandomNormal",
    "config": {"stddev": 0.01}}``): keras.layers take both as they are, so the kwargs stay
    JSON and the built layer's get_config() equals that of one given Keras' objects.
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
            kwargs.update(_keras_options(layer))
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
            kwargs.update(_keras_options(layer))
            group = [(cls, kwargs)]
        elif kind == "Dropout":
            group = [(cls, {"rate": layer["rate"]})]
        elif kind in _layers.KINDS:
            group = _layers.keras_group(layer)  # BatchNormalization: momentum 0.9, says why
        else:
            group = [(cls, {})]
        groups.append(group)
    return groups


def _keras_options(layer: dict) -> dict:
    return {key: _keras_option(key, layer[key]) for key in LAYER_OPTIONS
            if layer.get(key) is not None}


def model_layers(model) -> list:
    """A Keras model's layers without its InputLayer (duck-typed: core imports no keras)."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _pair(value):
    value = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    return value[0] if value[0] == value[1] else list(value)


def _activation_name(config) -> Optional[str]:
    name = config.get("activation")
    return None if name in (None, "linear") else name


def _spec_options(config: dict) -> dict:
    found = {key: _option_from_config(key, config) for key in LAYER_OPTIONS}
    return {key: value for key, value in found.items() if value is not None}


def spec_layer(layer, padding=None) -> Optional[dict]:
    """The spec entry (not normalized) describing one Keras layer, or None when the spec
    language has no counterpart. ``padding``: pixels of a ZeroPadding2D folded into a conv.
    Duck-typed on the layer's class name and ``get_config()``: no keras import.
    Initializers and regularizers in the spec's whitelist are read back; others (a seeded or
    custom one) are left out, so the entry still describes the layer's shape."""
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
                 "activation": _activation_name(config), **_spec_options(config)}
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
                 "activation": _activation_name(config), **_spec_options(config)}
    elif kind == "Dropout":
        entry = {"type": "Dropout", "rate": config["rate"]}
    elif kind == "ReLU":
        if config.get("max_value") is not None or config.get("negative_slope", 0) or \
                config.get("threshold", 0):
            return None
        entry = {"type": "ReLU"}
    elif kind in _layers.KINDS:
        entry = _layers.from_keras(kind, config)
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


def _code_arg(key: str, value) -> str:
    """One keyword argument as code; an initializer or regularizer config dict becomes the
    Keras object, e.g. ``keras.initializers.RandomNormal(stddev=0.01)``."""
    if isinstance(value, dict) and "class_name" in value:
        module = "initializers" if key.endswith("_initializer") else "regularizers"
        args = ", ".join(f"{k}={_py(v)}" for k, v in value["config"].items())
        return f"{key}=keras.{module}.{value['class_name']}({args})"
    return f"{key}={_py(value)}"


def keras_code(spec: dict, name: str = "model") -> str:
    """Runnable Keras code that builds exactly ``models.build_model(spec)``. A layer whose line
    would pass 99 characters gets one argument per line."""
    lines = ["import keras", "from keras import layers", "",
             f"{name} = keras.Sequential(["]
    shape = ", ".join(str(v) for v in input_shape_of(spec))
    lines.append(f"    keras.Input(shape=({shape})),")
    for group in keras_layers(spec):
        for cls, kwargs in group:
            args = [_code_arg(k, v) for k, v in kwargs.items()]
            line = f"    layers.{cls}({', '.join(args)}),"
            if len(line) > 99:
                line = "\n".join([f"    layers.{cls}("] + [f"        {a}," for a in args]
                                  + ["    ),"])
            lines.append(line)
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
        raise ValueError(_("spec is not valid JSON: {error}", error=err)) from None
    if not isinstance(spec, dict):
        raise ValueError(_("spec must be a JSON object with input_shape and layers"))
    return validate(spec)


def _conv(filters, kernel_size, padding="same", activation="relu", strides=1):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size,
            "strides": strides, "padding": padding, "dilation": 1, "activation": activation}


def _pool(size=2, strides=None, padding="same"):
    return {"type": "MaxPool2D", "pool_size": size, "strides": strides, "padding": padding}


_FLAT = {"type": "Flatten"}
_SOFTMAX10 = {"type": "Dense", "units": 10, "activation": "softmax"}

# The course's networks (display name -> spec). Treat as read-only: use preset() for a copy.
# The descriptions are marked with N_ and translated with _ where they are shown.
PRESETS: dict[str, dict] = {
    "Course CNN (2 conv)": {
        "description": N_("The course's TensorFlow MNIST CNN: two 3×3 conv layers with 2×2 "
                          "max-pooling, then a 10-way softmax."),
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _FLAT, dict(_SOFTMAX10)],
    },
    "Course deep CNN (3 conv)": {
        "description": N_("The course's deeper net: three conv blocks 32/64/128 with pooling and "
                          "dropout, a 625-unit dense layer, dropout, softmax."),
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _conv(64, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _conv(128, 3), _pool(), {"type": "Dropout", "rate": 0.3},
                   _FLAT, {"type": "Dense", "units": 625, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.5}, dict(_SOFTMAX10)],
    },
    "Keras Sequential CNN": {
        "description": N_("The course's Keras Sequential model: conv 32/64/128 with pooling, "
                          "dense 256, dropout 0.4, softmax (619,786 parameters)."),
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _conv(128, 3), _pool(),
                   _FLAT, {"type": "Dense", "units": 256, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.4}, dict(_SOFTMAX10)],
    },
    "32×32×3 image, six 5×5 filters": {
        "description": N_("The lecture's example: a 32×32×3 image and six 5×5×3 filters give a "
                          "28×28×6 stack of feature maps (456 parameters)."),
        "input_shape": [32, 32, 3],
        "layers": [_conv(6, 5, padding="valid", activation=None)],
    },
    "Fast MNIST CNN": {
        "description": N_("The playground's default, built for speed on a CPU: a 3×3×16 conv "
                          "with stride 2 (no pooling needed at full size), a 3×3×32 conv, 2×2 "
                          "max-pool, dense 256, softmax. With its one-cycle settings it passes "
                          "99 % test accuracy in three epochs (~26 s on 2 CPU cores)."),
        "input_shape": [28, 28, 1],
        "layers": [_conv(16, 3, padding="valid", strides=2), _conv(32, 3, padding="valid"),
                   _pool(2, 2, "valid"), _FLAT,
                   {"type": "Dense", "units": 256, "activation": "relu"}, dict(_SOFTMAX10)],
    },
    "ConvNetJS MNIST demo": {
        "description": N_("Karpathy's ConvNetJS MNIST demo: 24×24 crops, conv 5×5×8 pad 2, "
                          "pool 2, conv 5×5×16 pad 2, pool 3 stride 3, softmax."),
        "input_shape": [24, 24, 1],
        "layers": [_conv(8, 5, padding=2), _pool(2, 2, "valid"), _conv(16, 5, padding=2),
                   _pool(3, 3, "valid"), _FLAT, dict(_SOFTMAX10)],
    },
    "Fast Fashion-MNIST CNN": {
        "description": N_("The playground's Fashion-MNIST default: conv 3×3×32 SAME, batch norm, "
                          "2×2 max-pool, conv 3×3×64, batch norm, 2×2 max-pool, dense 128 with "
                          "dropout, softmax over the 10 kinds of clothes. Batch normalisation "
                          "lets it learn fast at a high rate."),
        "input_shape": [28, 28, 1],
        "layers": [_conv(32, 3), {"type": "BatchNormalization"}, _pool(2, 2, "valid"),
                   _conv(64, 3, padding="valid"), {"type": "BatchNormalization"},
                   _pool(2, 2, "valid"),
                   _FLAT, {"type": "Dense", "units": 128, "activation": "relu"},
                   {"type": "Dropout", "rate": 0.3}, dict(_SOFTMAX10)],
    },
    "Course CIFAR-10 CNN": {
        "description": N_("The course's CIFAR-10 network (its TensorFlow and Keras versions): conv "
                          "3×3×32 SAME, 2×2 max-pool, conv 3×3×64 SAME, 2×2 max-pool, flatten, "
                          "10-way softmax on 32×32 colour pictures."),
        "input_shape": [32, 32, 3],
        "layers": [_conv(32, 3), _pool(), _conv(64, 3), _pool(), _FLAT, dict(_SOFTMAX10)],
    },
    "Fast colour CNN": {
        "description": N_("A small, fast network for 32×32 colour pictures: conv 3×3×16 stride 2, "
                          "conv 3×3×32, 2×2 max-pool, dense 64, softmax."),
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
             "ReLU": "ReLU", **_layers.STAGE_NAMES}
    for layer in validate(spec)["layers"]:
        shape, _params = layer_output(layer, shape)
        label = f"{names[layer['type']]}\n{describe_layer(layer).split(', padding')[0]}" \
            if layer["type"] in ("Conv2D", "MaxPool2D", "AveragePool2D") else names[layer["type"]]
        if layer["type"] == "Dense":
            label = f"fully connected\n{layer['units']} units"
        stages.append((label, shape))
        if layer.get("activation"):
            stages.append((layer["activation"] if layer["activation"] != "relu" else "ReLU",
                           shape))
    return stages


def network_from_code(text: str) -> dict:
    """The spec a pasted Keras Sequential model or TensorFlow 1 layer stack builds, read with
    ``ast`` and never run (:mod:`playground.core.code`); ValueError with a one-line message."""
    from playground.core.code import network_from_code as read  # code imports this module
    return read(text)
