"""The values :mod:`playground.core.code` follows through pasted code (tensors, layers,
weights) and the layer table it reads Keras and ``tf.layers`` calls with. Pure: nothing here
runs the code it reads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from playground.core import network
from playground.i18n import _

MAX_CHARS = 20_000        # characters of code read at all
MAX_LINES = 1_000
MAX_DEPTH = 60            # nesting of the syntax tree (a course line is ~12 deep)
MAX_NUMBER = 10 ** 9      # any number in the code
MAX_SIZE = 100_000        # a size, count or shape entry (the Shape Lab table's own bound)
MAX_LAYERS = 200
ALLOWED_IMPORTS = ("tensorflow", "keras", "tf_keras", "__future__")
# Names whose use alone is refused: they would run code or touch files if the text were run.
FORBIDDEN = frozenset({"exec", "eval", "open", "compile", "__import__", "globals", "locals",
                       "vars", "getattr", "setattr", "delattr", "breakpoint", "input",
                       "__builtins__", "__loader__", "__spec__", "memoryview"})
ACTIVATION_NAMES = {"relu", "softmax", "sigmoid", "tanh", "linear"}

# keras.layers class -> (spec kind, its positional arguments in Keras' order). tf.layers'
# functions take the same arguments after their input tensor.
KERAS_LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Conv2D": ("Conv2D", ("filters", "kernel_size", "strides", "padding", "data_format",
                          "dilation_rate", "groups", "activation", "use_bias")),
    "MaxPooling2D": ("MaxPool2D", ("pool_size", "strides", "padding", "data_format")),
    "AveragePooling2D": ("AveragePool2D", ("pool_size", "strides", "padding", "data_format")),
    "Flatten": ("Flatten", ("data_format",)),
    "Dense": ("Dense", ("units", "activation", "use_bias")),
    "Dropout": ("Dropout", ("rate", "noise_shape", "seed")),
    "ReLU": ("ReLU", ("max_value", "negative_slope", "threshold")),
    "Activation": ("Activation", ("activation",)),
    "BatchNormalization": ("BatchNormalization", ("axis", "momentum", "epsilon", "center",
                                                  "scale")),
    "InputLayer": ("Input", ("input_shape",)),
    "ZeroPadding2D": ("ZeroPadding2D", ("padding", "data_format")),
    "Reshape": ("Reshape", ("target_shape",)),
    "Input": ("Input", ("shape",)),
    "GlobalAveragePooling2D": ("GlobalAveragePooling2D", ("data_format", "keepdims")),
    "Conv2DTranspose": ("Conv2DTranspose", ("filters", "kernel_size", "strides", "padding",
                                            "output_padding", "data_format", "dilation_rate",
                                            "activation", "use_bias")),
    "DepthwiseConv2D": ("DepthwiseConv2D", ("kernel_size", "strides", "padding",
                                            "depth_multiplier", "data_format", "dilation_rate",
                                            "activation", "use_bias")),
    "SeparableConv2D": ("SeparableConv2D", ("filters", "kernel_size", "strides", "padding",
                                            "data_format", "dilation_rate", "depth_multiplier",
                                            "activation", "use_bias")),
}
CLASS_ALIASES = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
                  "Convolution2D": "Conv2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                  "Conv2DTranspose": "Conv2DTranspose", "SeparableConvolution2D":
                  "SeparableConv2D"}
TF_LAYERS = {"conv2d": "Conv2D", "max_pooling2d": "MaxPooling2D",
              "average_pooling2d": "AveragePooling2D", "dense": "Dense", "dropout": "Dropout",
              "flatten": "Flatten", "batch_normalization": "BatchNormalization",
              "conv2d_transpose": "Conv2DTranspose", "separable_conv2d": "SeparableConv2D"}
# Keras' own defaults where the spec's differ (its Conv2D defaults to SAME and ReLU).
_KERAS_DEFAULTS = {"Conv2D": {"strides": 1, "padding": "valid", "dilation": 1,
                              "activation": None},
                   "MaxPool2D": {"pool_size": 2, "strides": None, "padding": "valid"},
                   "AveragePool2D": {"pool_size": 2, "strides": None, "padding": "valid"},
                   "Dense": {"activation": None},
                   "Conv2DTranspose": {"strides": 1, "padding": "valid", "activation": None},
                   "DepthwiseConv2D": {"strides": 1, "padding": "valid",
                                       "depth_multiplier": 1, "activation": None},
                   "SeparableConv2D": {"strides": 1, "padding": "valid",
                                       "depth_multiplier": 1, "activation": None}}
_RENAMED = {"dilation_rate": "dilation"}
# Arguments read and dropped when they have the value that changes nothing in the spec.
_HARMLESS = {"name": None, "dtype": None, "trainable": None, "seed": None, "momentum": None,
             "epsilon": None, "noise_shape": (None,), "training": None, "input_shape": None,
             "batch_size": None, "reuse": None, "data_format": ("channels_last", None),
             "use_bias": (True,), "groups": (1,), "axis": (-1, 3), "center": (True,),
             "scale": (True,), "keepdims": (False,), "output_padding": (None,),
             "max_value": (None,), "negative_slope": (0, 0.0), "threshold": (0, 0.0),
             "inputs": None, "dilation_rate": (1, (1, 1), [1, 1])}
class Refused(ValueError):
    """The one-line message of code that cannot be read (a ValueError)."""


def refuse(line: int, message: str):
    raise Refused(_("line {line}: {problem}", line=line, problem=message))


@dataclass(frozen=True)
class Ref:
    """A module, class or function, by its dotted path (``tensorflow.nn.conv2d``)."""

    path: str


@dataclass
class Layer:
    """A Keras layer object made but not yet given a tensor."""

    kind: str
    fields: dict
    input_shape: Optional[tuple]
    line: int
    name: str


@dataclass
class Chain:
    """A tensor: the input it comes from and the layers after it. ``shape`` has no batch axis."""

    input_shape: tuple
    layers: tuple = ()
    shape: tuple = ()
    depth: int = 0
    pad: Optional[int] = None     # pixels of a ZeroPadding2D waiting for its Conv2D


@dataclass
class Poison:
    """A tensor made by something that is not a layer the playground knows."""

    depth: int
    message: str


@dataclass
class Weight:
    shape: tuple


@dataclass
class KeepProb:
    name: str


@dataclass
class Model:
    """keras.Sequential: its layers in order."""

    line: int
    items: list = field(default_factory=list)


@dataclass(frozen=True)
class Method:
    owner: Any
    name: str


class _Unknown:
    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = _Unknown()


def canonical_path(path: str) -> str:
    for prefix, short in (("tensorflow.compat.v1.", "tensorflow."),
                          ("tensorflow.compat.v2.", "tensorflow."),
                          ("tensorflow.python.keras.", "keras."), ("tensorflow.keras.", "keras."),
                          ("tf_keras.", "keras."), ("tensorflow.contrib.layers.",
                                                    "tensorflow.layers.")):
        if path.startswith(prefix):
            path = short + path[len(prefix):]
    parts = path.split(".")
    if parts[0] == "keras" and len(parts) > 2 and parts[1] == "layers":
        return "keras.layers." + parts[-1]          # keras.layers.pooling.MaxPooling2D
    if parts[0] == "keras" and parts[-1] in ("Sequential", "Input", "Model"):
        return "keras." + parts[-1]                 # keras.models.Sequential
    if parts[:2] == ["tensorflow", "random"] and len(parts) == 3:
        return "tensorflow.random_" + parts[2].replace("random_", "")
    if parts[:2] == ["tensorflow", "nn"] and parts[-1] in ("max_pool2d", "avg_pool2d"):
        return "tensorflow.nn." + parts[-1][:-2]
    return path


def _activation(value, line: int):
    """An activation argument: 'relu', tf.nn.relu, keras.activations.softmax, None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Ref):
        name = value.path.rsplit(".", 1)[-1]
        if name in ACTIVATION_NAMES:
            return name
        refuse(line, _("activation {name} is not one the playground knows",
                        name=value.path.replace("tensorflow.", "tf.")))
    refuse(line, _("this activation cannot be read"))


def size_of(value, line: int, what: str):
    """A size argument: an int or a pair (tuple or list) of ints, bounded."""
    if isinstance(value, (list, tuple)):
        if not value or len(value) > 4:
            refuse(line, _("{what} must be a number or a pair, got {value}", what=what,
                            value=short_text(value)))
        return [size_of(v, line, what) for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        refuse(line, _("{what} must be a number, got {value}", what=what, value=short_text(value)))
    if abs(value) > MAX_SIZE:
        refuse(line, _("{what} {value} is larger than the playground's limit of {limit}",
                        what=what, value=short_text(value), limit=f"{MAX_SIZE:,}"))
    return value


def short_text(value) -> str:
    if value is UNKNOWN:
        return _("an expression it cannot follow")
    text = repr(value) if not isinstance(value, (Ref, Chain, Weight, Layer, Model)) \
        else type(value).__name__
    return text if len(text) <= 40 else text[:39] + "…"


def pair_of(value, line: int, what: str):
    """[1, s, s, 1] (TensorFlow's NHWC lists) or [s, s] or s -> s or [sh, sw]."""
    value = size_of(value, line, what)
    if isinstance(value, list):
        if len(value) == 4:
            value = value[1:3]
        elif len(value) == 1:
            value = value * 2
        if len(value) != 2:
            refuse(line, _("{what} must be a number or a pair, got {value}", what=what,
                            value=short_text(value)))
        return value[0] if value[0] == value[1] else list(value)
    return value


def padding_of(value, line: int):
    if isinstance(value, str) and value.lower() in ("same", "valid"):
        return value.lower()
    refuse(line, _("padding must be 'SAME' or 'VALID', got {value}", value=short_text(value)))


def _option(key: str, value, line: int):
    """A Keras initializer or regularizer argument as the spec writes it."""
    if value is None or isinstance(value, (str, dict)):
        return value
    refuse(line, _("{key} cannot be read", key=key))


def _layer_kind(kind: str) -> str:
    if kind == "BatchNormalization" and kind not in network.LAYER_DEFAULTS:
        return "BatchNorm"
    return kind


def make_layer(cls: str, args: list, kwargs: dict, line: int, name: str) -> Layer:
    """A Keras layer's spec entry from its (evaluated) constructor arguments."""
    cls = CLASS_ALIASES.get(cls, cls)
    if cls not in KERAS_LAYERS:
        refuse(line, _("{name} is not a layer the playground knows", name=name))
    kind, positional = KERAS_LAYERS[cls]
    if len(args) > len(positional):
        refuse(line, _("{name} takes at most {count} arguments without names", name=name,
                        count=len(positional)))
    given = dict(zip(positional, args))
    for key, value in kwargs.items():
        if key in given:
            refuse(line, _("{name} got {key} twice", name=name, key=key))
        given[key] = value
    if kind == "Input":
        shape = given.pop("shape", None) or given.pop("input_shape", None) or \
            (given.pop("batch_input_shape", None) or given.pop("batch_shape", None) or [0])[1:]
        return Layer("Input", {}, _input_shape(shape, line, name), line, name)
    if kind == "ZeroPadding2D":
        return Layer(kind, {"padding": _zero_padding(given, line, name)}, None, line, name)
    if kind == "Reshape":
        target = given.pop("target_shape", None)
        if not isinstance(target, (list, tuple)) or \
                any(isinstance(v, bool) or not isinstance(v, int) for v in target):
            refuse(line, _("{name}: the shape must be a list of numbers", name=name))
        shape = given.pop("input_shape", None)
        return Layer(kind, {"target_shape": list(target)},
                     _input_shape(shape, line, name) if shape is not None else None, line, name)
    kind = _layer_kind(kind)
    known = set(network.LAYER_DEFAULTS.get(kind, {})) | set(_KERAS_DEFAULTS.get(kind, {}))
    if kind in network.OPTION_LAYERS:
        known |= set(network.LAYER_OPTIONS)
    fields: dict[str, Any] = dict(_KERAS_DEFAULTS.get(kind, {}))
    input_shape = None
    for key, value in given.items():
        spec_key = _RENAMED.get(key, key)
        if key == "input_dim" and value is not None:        # Keras 2's Dense(input_dim=784)
            input_shape = _input_shape(value, line, name)
        elif key in ("input_shape", "batch_input_shape") and value is not None:
            shape = value[1:] if key == "batch_input_shape" and isinstance(value, (list, tuple)) \
                else value
            input_shape = _input_shape(shape, line, name)
        elif kind == "Activation" and key == "activation":
            fields["activation"] = _activation(value, line)
        elif spec_key in known:
            if spec_key == "activation":
                value = _activation(value, line)
            elif spec_key == "padding":
                value = padding_of(value, line)
            elif spec_key in network.LAYER_OPTIONS:
                value = _option(spec_key, value, line)
            elif spec_key == "rate":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    refuse(line, _("rate must be a number, got {value}", value=short_text(value)))
            elif value is not None or spec_key != "strides":
                value = pair_of(value, line, spec_key)
            fields[spec_key] = value
        elif key in _HARMLESS and (_HARMLESS[key] is None or value in _HARMLESS[key]):
            continue
        else:
            refuse(line, _("{name}({key}={value}) is not something the playground's layers "
                            "can say", name=name, key=key, value=short_text(value)))
    if kind in ("Conv2D", "Dense", "Dropout") and not any(
            k in fields for k in ("filters", "units", "rate")):
        refuse(line, _("{name} needs its size", name=name))
    return Layer(kind, fields, input_shape, line, name)


def _zero_padding(given: dict, line: int, name: str) -> int:
    """ZeroPadding2D's padding when it is the same on every side (the spec's explicit padding)."""
    pad = given.pop("padding", 1)
    if given.get("data_format") not in (None, "channels_last") or \
            any(k not in ("data_format", "name") for k in given):
        refuse(line, _("{name}: only the padding can be given", name=name))
    flat = pad
    if isinstance(pad, (list, tuple)):
        flat = [v for part in pad for v in (part if isinstance(part, (list, tuple)) else
                                            (part, part))]
        if not flat or any(v != flat[0] for v in flat):
            refuse(line, _("{name}: the playground pads every side alike", name=name))
        flat = flat[0]
    if isinstance(flat, bool) or not isinstance(flat, int) or not 0 <= flat <= MAX_SIZE:
        refuse(line, _("{name}: padding must be a number of pixels, got {value}", name=name,
                        value=short_text(pad)))
    return flat


def _input_shape(shape, line: int, name: str) -> tuple:
    if isinstance(shape, (int, float)) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, (list, tuple)) or not 1 <= len(shape) <= 3 or \
            any(v is None for v in shape):
        refuse(line, _("{name}: the input shape must be (H, W, C) or (n,), got {value}",
                        name=name, value=short_text(shape)))
    return tuple(size_of(v, line, "input shape") for v in shape)


def add_layer(chain: Chain, layer: dict, line: int) -> Chain:
    """``chain`` with one more layer (checked now, so its message names this line)."""
    if len(chain.layers) >= MAX_LAYERS:
        refuse(line, _("more than {count} layers", count=MAX_LAYERS))
    if chain.pad is not None:
        if layer.get("type") != "Conv2D" or layer.get("padding") != "valid":
            refuse(line, _("ZeroPadding2D must be followed by a Conv2D with padding='valid'"))
        layer = {**layer, "padding": chain.pad}
    try:
        normalized = network.normalize_layer(layer)
        shape, _params = network.layer_output(normalized, chain.shape)
    except ValueError as err:
        refuse(line, str(err))
    return Chain(chain.input_shape, chain.layers + (normalized,), shape, chain.depth + 1)


def set_activation(chain: Chain, name: str, line: int, written: str,
                    fold_relu: bool = True) -> Chain:
    """``chain`` followed by an activation: the last layer's own when it has none (ReLU only
    when ``fold_relu``), else, for ReLU, a ReLU layer."""
    last = chain.layers[-1] if chain.layers else None
    if name == "linear":
        return chain
    if last is not None and "activation" in last and last["activation"] is None and \
            (fold_relu or name != "relu"):
        layers = chain.layers[:-1] + ({**last, "activation": name},)
        return Chain(chain.input_shape, layers, chain.shape, chain.depth + 1)
    if name == "relu":
        return add_layer(chain, {"type": "ReLU"}, line)
    refuse(line, _("{name} must follow a layer without an activation (Conv2D or Dense)",
                    name=written))


def chain_of_model(model: Model) -> Chain:
    """A Sequential's layers as a chain from its input."""
    chain: Optional[Chain] = None
    for item in model.items:
        if isinstance(item, Chain) and chain is None:
            chain = item
            continue
        if not isinstance(item, Layer):
            refuse(model.line, _("the model holds something that is not a layer"))
        if chain is None:
            if item.kind == "Input" or item.input_shape is not None:
                chain = Chain(item.input_shape, (), item.input_shape)
            else:
                refuse(item.line, _("the first layer needs input_shape=(H, W, C), or start "
                                     "with keras.Input(shape=(H, W, C))"))
        elif item.kind == "Input":
            refuse(item.line, _("an input in the middle of the model"))
        if item.kind != "Input":
            chain = apply_layer(item, chain, item.line)
    if chain is None:
        refuse(model.line, _("the model has no layers"))
    return chain


def apply_layer(layer: Layer, chain: Chain, line: int) -> Chain:
    if layer.kind == "Input":
        return chain
    if chain.pad is not None and layer.kind != "Conv2D":
        refuse(line, _("ZeroPadding2D must be followed by a Conv2D with padding='valid'"))
    if layer.kind == "ZeroPadding2D":
        return Chain(chain.input_shape, chain.layers, chain.shape, chain.depth,
                     layer.fields["padding"])
    if layer.kind == "Reshape":
        return reshape_chain(chain, layer.fields["target_shape"], line, layer.name)
    if layer.kind == "Activation":
        name = layer.fields.get("activation")
        return set_activation(chain, name or "linear", line, f"Activation({name!r})",
                               fold_relu=False)
    return add_layer(chain, {"type": layer.kind, **layer.fields}, line)


def shape_text(shape: tuple) -> str:
    return "×".join(str(v) for v in shape)


def reshape_chain(chain: Chain, dims: list, line: int, written: str) -> Chain:
    """``tf.reshape`` / ``Reshape`` to ``dims`` (without the batch axis; one may be -1): before
    any layer it is the input as the layers see it (784 -> 28×28×1); after layers, only
    flattening is a layer the playground knows."""
    size = math.prod(chain.shape)
    dims = list(dims)
    if dims.count(-1) == 1:
        known = math.prod(v for v in dims if v != -1)
        dims[dims.index(-1)] = size // known if known and size % known == 0 else 0
    dims = [size_of(v, line, "shape") for v in dims]
    if not 1 <= len(dims) <= 3 or math.prod(dims) != size:
        refuse(line, _("{name}: {shape} does not hold the {count} values of its input "
                       "({input})", name=written, shape=short_text(dims),
                       count=f"{size:,}", input=shape_text(chain.shape)))
    if not chain.layers:
        return Chain(tuple(dims), (), tuple(dims))
    if tuple(dims) == chain.shape:
        return chain
    if len(dims) == 1:
        return add_layer(chain, {"type": "Flatten"}, line)
    refuse(line, _("{name} to {shape} is not a layer the playground knows (only "
                   "flattening)", name=written, shape=short_text(dims)))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def keras_option(path: str, args: list, kwargs: dict, line: int, written: str):
    """keras.initializers.* / keras.regularizers.* as the spec writes them."""
    cls = path.rsplit(".", 1)[-1]
    names = {keras_cls: name for name, keras_cls in network.INITIALIZERS.items()}
    numbers = {k: v for k, v in kwargs.items() if k != "seed"}
    if kwargs.get("seed") is not None:
        refuse(line, _("{name}: a seed is not something the playground keeps", name=written))
    if cls in names or cls in network.INITIALIZERS:
        if args or numbers:
            refuse(line, _("{name} takes no arguments here", name=written))
        return names.get(cls, cls)
    forms = {"RandomNormal": ("mean", "stddev"), "random_normal": ("mean", "stddev"),
             "Constant": ("value",), "constant": ("value",), "L1": ("l1",), "l1": ("l1",),
             "L2": ("l2",), "l2": ("l2",), "L1L2": ("l1", "l2"), "l1_l2": ("l1", "l2")}
    if cls not in forms or len(args) > len(forms[cls]) or \
            any(k not in forms[cls] for k in numbers):
        refuse(line, _("{name} is not an initializer or regularizer the playground knows",
                        name=written))
    given = {**dict(zip(forms[cls], args)), **numbers}
    if any(not _is_number(v) for v in given.values()):
        refuse(line, _("{name} takes numbers", name=written))
    if cls.lower() in ("l1", "l2"):
        return {cls.lower(): given.get(cls.lower(), 0.01)}
    if cls.lower() == "l1l2" or cls == "l1_l2":
        return {"l1": given.get("l1", 0.0), "l2": given.get("l2", 0.0)}
    if cls.lower() == "constant":
        return {"class": "Constant", "value": given.get("value", 0.0)}
    return {"class": "RandomNormal", **given}
