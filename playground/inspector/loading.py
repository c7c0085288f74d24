"""Loading a model file safely: the file's own description checked first, Keras' safe mode,
size limits, and a check that the inspector can show it.

Two formats, told apart by their first bytes and their name:
  * ``.keras``  a zip (``config.json``, ``model.weights.h5``), what ``model.save('m.keras')``
    writes;
  * ``.h5``     one HDF5 file (the ``model_config`` attribute and ``model_weights``), the
    course's ``model.save('my_model.h5')``.

Before Keras sees a file, its model description is read here (bounded sizes) and walked:
Lambda layers and other layers that run code (``TFSMLayer``, ``TorchModuleWrapper``, ...),
classes or functions that are not part of Keras, and absurd sizes (a Dense layer of 10**9
units, an enormous input) are refused with a one-line message; the HDF5 weights may not point
outside the file (external links or storage, virtual datasets). Keras 3.15 honours
``safe_mode`` on its legacy H5 path too (checked with a Lambda layer in both the tf.keras 2 and
Keras 3 forms), but Keras before 3.11.3 did not (CVE-2025-9905) and Keras would build a huge
layer before finding its weights missing: the check here does not depend on either.

keras and h5py are imported inside the functions, so importing this module (for
``ModelError`` and the limits) does not start TensorFlow.
"""
from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

from playground.core import runs
from playground.core.shapes import shape_text
from playground.i18n import N_, _
from playground.inspector.data import MAX_CLASSES

if TYPE_CHECKING:
    import keras

# The course's largest net with its optimizer state is ~10 MB; leave room, refuse the absurd.
MAX_MODEL_BYTES = 20 * 1024 * 1024
# A .keras file is a zip: refuse archives that inflate far beyond any model we could show.
MAX_MODEL_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_CONFIG_BYTES = 2 * 1024 * 1024        # the model description (JSON)
MAX_CONFIG_NODES = 200_000                # dicts, lists and values in it
MAX_CONFIG_DEPTH = 64
MAX_H5_OBJECTS = 20_000                   # groups and datasets in an HDF5 file
# What a 20 MB file can hold is ~5 M float32 weights; a description that declares far more
# would make Keras allocate them before it finds the weights missing.
MAX_PARAMETERS = 30_000_000
MAX_UNITS = 65_536                        # units, filters, embedding sizes
MAX_WINDOW = 1_024                        # kernel, pool and stride sizes
MAX_TENSOR = 2 ** 24                      # elements of any shape the description declares
MAX_INPUT_SIDE = 1_024                    # height or width of the picture input
MIN_INPUT_SIDE = 4

FORMATS = ("keras", "h5")
_EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# Layers that run code from the file or read files outside it: never loaded.
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda", "TFSMLayer", "TorchModuleWrapper",
                "JaxLayer", "FlaxLayer"}
# Markers Keras writes in place of tuples, tensors and arrays (no code behind them).
_MARKERS = {"__tuple__", "__keras_tensor__", "__numpy__", "__bytes__", "__ellipsis__",
            "__slice__", "__typespec__", "__tensor__", "__dtype__"}
_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_SIZE_KEYS = {"units", "filters", "output_dim", "input_dim", "depth_multiplier"}
_WINDOW_KEYS = {"kernel_size", "pool_size", "strides", "dilation_rate", "size"}
_SHAPE_KEYS = {"batch_shape", "batch_input_shape", "input_shape", "shape", "target_shape",
               "build_input_shape"}

LAMBDA_MESSAGE = N_("refused: the model contains a Lambda layer, i.e. arbitrary Python code; "
                    "the inspector loads models in Keras' safe mode and never runs code from a "
                    "file")
NOT_KERAS_ZIP = N_("this file is not a Keras model: a .keras file is a zip archive saved by "
                   "model.save('name.keras')")
NOT_HDF5 = N_("this file is not an HDF5 model: it is a zip archive, as a .keras file is; "
              "rename it to .keras")
NOT_H5_MODEL = N_("this file is not a Keras model: a .h5 model is an HDF5 file saved by "
                  "model.save('name.h5')")


class ModelError(ValueError):
    """A model file the inspector cannot use; ``str(err)`` is a one-line message for the user."""


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain(text: Any, limit: int = 40) -> str:
    """A name from a file for a message: printable ASCII, shortened."""
    cleaned = "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in str(text))
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"


# --------------------------------------------------------------------------- the description

_known: set[str] = set()


def _known_classes() -> set[str]:
    """Class names Keras itself provides (layers, models, initializers, regularizers,
    constraints, optimizers, losses, metrics, dtype policies)."""
    if not _known:
        import keras

        modules = (keras, keras.layers, keras.models, keras.initializers, keras.regularizers,
                   keras.constraints, keras.optimizers, keras.optimizers.schedules,
                   keras.losses, keras.metrics, keras.dtype_policies)
        for module in modules:
            _known.update(name for name in dir(module) if not name.startswith("_")
                          and isinstance(getattr(module, name), type))
        _known.update(_MODEL_CLASSES)
    return _known


def _keras_function(name: Any) -> bool:
    import keras

    return isinstance(name, str) and any(
        callable(getattr(module, name, None)) and not name.startswith("_")
        for module in (keras.activations, keras.losses, keras.metrics))


def _check_object(obj: dict) -> None:
    """One ``{"class_name": ..., "module": ..., ...}`` of a description: refuse code and
    anything that is not Keras' own."""
    name = obj.get("class_name")
    module = obj.get("module")
    registered = obj.get("registered_name")
    if not isinstance(name, str):
        raise ModelError(_("the model description is damaged: a class name is not text"))
    if name in _CODE_LAYERS or name == "__lambda__":
        if name in ("Lambda", "__lambda__"):
            raise ModelError(_(LAMBDA_MESSAGE))
        raise ModelError(_("refused: the model contains a {layer} layer, which runs code or "
                           "reads files from outside the model; the inspector never does",
                           layer=_plain(name)))
    if name in _MARKERS:
        return
    where = f"{_plain(module)}.{_plain(name)}" if module else _plain(name)
    foreign = module is not None and (not isinstance(module, str) or not (
        module == "keras" or module.startswith("keras.")))
    if name == "function":
        if foreign or not _keras_function(obj.get("config")):
            target = f"{_plain(module)}.{_plain(obj.get('config'))}"
            raise ModelError(_("the model uses {target}, a custom function that is not part "
                               "of Keras, so it cannot be loaded safely", target=target))
        return
    custom = registered is not None and registered != name
    if foreign or custom or name not in _known_classes():
        raise ModelError(_("the model uses {target}, a custom class or function that is not "
                           "part of Keras, so it cannot be loaded safely", target=where))


def _as_ints(value) -> Optional[list[int]]:
    """An int or a list of ints/None from a description (None dims as 1), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        value = (value.get("config") or {}).get("value")
    if isinstance(value, (list, tuple)) and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
        return [1 if v is None else v for v in value]
    return None


def _check_sizes(key: str, value, owner: str) -> None:
    ints = _as_ints(value)
    if ints is None:
        return
    if any(v < 0 for v in ints):
        raise ModelError(_("the model declares {owner} {key} {value}: sizes cannot be "
                           "negative", owner=owner, key=key, value=_plain(value, 60)))
    if key in _SIZE_KEYS and max(ints, default=0) > MAX_UNITS:
        raise ModelError(_("the model declares {owner} {key} = {value}; the inspector's limit "
                           "is {limit}", owner=owner, key=key, value=f"{max(ints):,}",
                           limit=f"{MAX_UNITS:,}"))
    if key in _WINDOW_KEYS and max(ints, default=0) > MAX_WINDOW:
        raise ModelError(_("the model declares {owner} {key} = {value}; the inspector's limit "
                           "is {limit}", owner=owner, key=key, value=f"{max(ints):,}",
                           limit=f"{MAX_WINDOW:,}"))
    if key in _SHAPE_KEYS and math.prod(ints) > MAX_TENSOR:
        raise ModelError(_("the model declares {owner} {key} {value} ({count} values); the "
                           "inspector's limit is {limit}", owner=owner, key=key,
                           value=_plain(value, 60), count=f"{math.prod(ints):,}",
                           limit=f"{MAX_TENSOR:,}"))


def _walk(node, depth: int = 0, owner: str = "a layer", counter=None) -> None:
    counter = counter if counter is not None else [0]
    counter[0] += 1
    if counter[0] > MAX_CONFIG_NODES or depth > MAX_CONFIG_DEPTH:
        raise ModelError(_("the model description is too large or too deeply nested to be a "
                           "model the inspector can show"))
    if isinstance(node, dict):
        if "class_name" in node:
            _check_object(node)
            config = node.get("config")
            if isinstance(config, dict) and isinstance(config.get("name"), str):
                owner = f"{_plain(node['class_name'])} {_plain(config['name'])!r}"
        for key, value in node.items():
            if isinstance(key, str):
                _check_sizes(key, value, owner)
            _walk(value, depth + 1, owner, counter)
    elif isinstance(node, list):
        for value in node:
            _walk(value, depth + 1, owner, counter)


def _parse_config(text) -> dict:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelError(_("the model description is not UTF-8 text")) from None
    if not isinstance(text, str):
        raise ModelError(_("the model description is not text"))
    if len(text) > MAX_CONFIG_BYTES:
        raise ModelError(_("the model description is {size} MB; the limit is {limit} MB",
                           size=f"{len(text) / 1e6:.1f}", limit=f"{MAX_CONFIG_BYTES / 1e6:.0f}"))
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(_("Keras could not load this model: its description is not valid "
                           "JSON")) from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelError(_("Keras could not load this model: its description names no model "
                           "class"))
    return config


# --------------------------------------------------------------- a parameter count, estimated

def _pair(value, default: int, n: int = 2) -> list[int]:
    ints = _as_ints(value)
    if not ints:
        return [default] * n
    return ints * n if len(ints) == 1 else ints[:n]


def _window_out(size: int, window: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return max(0, (size - (window - 1) * dilation - 1) // stride + 1)


def _layer_estimate(kind: str, cfg: dict, shape: Optional[tuple]) -> tuple[int, Optional[tuple]]:
    """(parameters, output shape without the batch axis) of one layer from its description;
    layers it does not know keep the shape and count no parameters (a lower bound)."""
    if shape is None:
        return 0, None
    channels = shape[-1] if shape else 1
    bias = 1 if cfg.get("use_bias", True) else 0
    padding = str(cfg.get("padding", "valid")).lower()
    if kind == "Dense":
        units = int(cfg.get("units", 0))
        return channels * units + units * bias, shape[:-1] + (units,)
    if kind in ("Conv1D", "Conv2D", "Conv3D", "SeparableConv2D", "DepthwiseConv2D",
                "Conv2DTranspose"):
        n = len(shape) - 1
        kernel = _pair(cfg.get("kernel_size"), 1, n)
        strides = _pair(cfg.get("strides"), 1, n)
        dilation = _pair(cfg.get("dilation_rate"), 1, n)
        window = math.prod(kernel)
        if kind == "DepthwiseConv2D":
            filters = channels * int(cfg.get("depth_multiplier", 1))
            params = window * filters + filters * bias
        elif kind == "SeparableConv2D":
            multiplier = int(cfg.get("depth_multiplier", 1))
            filters = int(cfg.get("filters", 0))
            params = window * channels * multiplier + channels * multiplier * filters \
                + filters * bias
        else:
            filters = int(cfg.get("filters", 0))
            groups = max(1, int(cfg.get("groups", 1) or 1))
            params = window * (channels // groups) * filters + filters * bias
        if kind == "Conv2DTranspose":
            sides = tuple(s * st + max(k - st, 0) * (padding != "same")
                          for s, k, st in zip(shape[:-1], kernel, strides))
        else:
            sides = tuple(_window_out(s, k, st, d, padding)
                          for s, k, st, d in zip(shape[:-1], kernel, strides, dilation))
        return params, sides + (filters,)
    if kind in ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AveragePool2D",
                "MaxPooling1D", "AveragePooling1D"):
        n = len(shape) - 1
        pool = _pair(cfg.get("pool_size"), 2, n)
        strides = _pair(cfg.get("strides"), 0, n) if cfg.get("strides") is not None else pool
        sides = tuple(_window_out(s, p, st, 1, padding)
                      for s, p, st in zip(shape[:-1], pool, strides))
        return 0, sides + (channels,)
    if kind.startswith("Global") and "Pooling" in kind:
        return 0, (channels,)
    if kind == "Flatten":
        return 0, (math.prod(shape),)
    if kind == "Reshape":
        target = _as_ints(cfg.get("target_shape"))
        return 0, tuple(target) if target else shape
    if kind == "BatchNormalization":
        return 4 * channels, shape
    if kind == "LayerNormalization":
        return 2 * channels, shape
    if kind == "Embedding":
        return int(cfg.get("input_dim", 0)) * int(cfg.get("output_dim", 0)), None
    if kind in ("ZeroPadding2D", "Cropping2D"):
        value = cfg.get("padding" if kind == "ZeroPadding2D" else "cropping")
        ints = _as_ints(value)
        if ints is not None and len(ints) in (1, 2):
            pads = [[ints[0]] * 2, [ints[-1]] * 2]
        elif isinstance(value, list) and len(value) == 2:
            pads = [_pair(side, 0) for side in value]
        else:
            return 0, shape
        sign = 1 if kind == "ZeroPadding2D" else -1
        sides = tuple(s + sign * sum(p) for s, p in zip(shape[:-1], pads))
        return 0, sides + (channels,)
    if kind in ("CenterCrop", "Resizing"):
        return 0, (int(cfg.get("height", 0)), int(cfg.get("width", 0)), channels)
    if kind in ("UpSampling2D", "UpSampling1D"):
        size = _pair(cfg.get("size"), 2, len(shape) - 1)
        return 0, tuple(s * k for s, k in zip(shape[:-1], size)) + (channels,)
    return 0, shape


def _input_of(layer: dict) -> Optional[tuple]:
    """The shape a layer declares for its input (an InputLayer's, a first layer's
    batch_input_shape, or a Keras 3 functional graph's inbound tensor), without the batch."""
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    for key in ("batch_shape", "batch_input_shape"):
        ints = _as_ints(cfg.get(key))
        if ints and len(ints) >= 2:
            return tuple(ints[1:])
    nodes = layer.get("inbound_nodes")
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], dict):
        for arg in nodes[0].get("args") or []:
            if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
                ints = _as_ints((arg.get("config") or {}).get("shape"))
                if ints and len(ints) >= 2:
                    return tuple(ints[1:])
    return None


def estimate_parameters(config: dict) -> tuple[int, Optional[tuple]]:
    """(parameters, output shape) a model description declares, layer after layer in the
    order it lists them (nested models counted in place). Exact for the chains of layers the
    playground builds; a lower bound where it meets layers it does not know."""
    layers = (config.get("config") or {}).get("layers") if isinstance(
        config.get("config"), dict) else None
    if not isinstance(layers, list):
        return 0, None
    total, shape = 0, None
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        kind = layer.get("class_name")
        cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        declared = _input_of(layer)
        shape = declared if declared is not None else shape
        if kind == "InputLayer":
            continue
        if kind in _MODEL_CLASSES:
            params, out = estimate_parameters(layer)
            total += params
            shape = out if out is not None else shape
            continue
        try:
            params, shape = _layer_estimate(str(kind), cfg, shape)
        except (TypeError, ValueError):
            params, shape = 0, None
        total += params
        if total > MAX_PARAMETERS:
            raise ModelError(_("the model declares more than {limit} parameters (reached at "
                               "{layer}); the inspector's limit is {limit}",
                               limit=f"{MAX_PARAMETERS:,}",
                               layer=f"{_plain(kind)} {_plain(cfg.get('name'))!r}"))
        if shape is not None and math.prod(shape) > MAX_TENSOR:
            raise ModelError(_("the model's {layer} would output {shape} values per picture; "
                               "the inspector's limit is {limit}",
                               layer=f"{_plain(kind)} {_plain(cfg.get('name'))!r}",
                               shape=shape_text(shape), limit=f"{MAX_TENSOR:,}"))
    return total, shape


def check_config(config: dict) -> dict:
    """Return a model description (the parsed ``config.json`` of a .keras file or the
    ``model_config`` of an .h5 file) if it is safe to hand to Keras, else raise ModelError.

    Refused: Lambda and other code-running layers, classes and functions not in Keras, negative
    or absurd sizes, more than MAX_PARAMETERS parameters, descriptions too large or too deep.
    """
    _walk(config)
    if config.get("class_name") not in _MODEL_CLASSES:
        raise ModelError(_("the file holds a {kind}, not a Keras model",
                           kind=_plain(config.get("class_name"))))
    estimate_parameters(config)
    return config


# --------------------------------------------------------------------------- HDF5 files

def _h5_objects(group, depth: int = 0, counter=None) -> Iterator[Any]:
    """Every dataset and group below ``group`` through hard links; ModelError for any other
    kind of link (external files, soft links) or a tree that is too large or deep."""
    import h5py

    counter = counter if counter is not None else [0]
    if depth > 32:
        raise ModelError(_("the HDF5 file is nested too deeply to be a Keras model"))
    for key in group:
        counter[0] += 1
        if counter[0] > MAX_H5_OBJECTS:
            raise ModelError(_("the HDF5 file holds more than {limit} objects",
                               limit=f"{MAX_H5_OBJECTS:,}"))
        link = group.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ModelError(_("refused: the HDF5 file links {name} to somewhere else (Keras "
                               "never writes links)", name=repr(_plain(key))))
        obj = group[key]
        yield obj
        if isinstance(obj, h5py.Group):
            yield from _h5_objects(obj, depth + 1, counter)


def check_h5(handle) -> None:
    """ModelError unless every dataset of the open HDF5 file ``handle`` holds plain numbers
    or strings stored inside the file, MAX_PARAMETERS values in all at most."""
    import h5py

    total = 0
    for obj in _h5_objects(handle):
        if not isinstance(obj, h5py.Dataset):
            continue
        if obj.is_virtual or obj.external:
            raise ModelError(_("refused: the HDF5 dataset {name} keeps its values in other "
                               "files", name=repr(_plain(obj.name, 60))))
        if obj.dtype.kind not in "fiubSO" or obj.dtype.fields is not None:
            raise ModelError(_("the HDF5 dataset {name} holds {kind}, not weights",
                               name=repr(_plain(obj.name, 60)), kind=_plain(obj.dtype)))
        total += int(obj.size or 0)
        if total > MAX_PARAMETERS:
            raise ModelError(_("the HDF5 file declares more than {limit} weights; the "
                               "inspector's limit is {limit}", limit=f"{MAX_PARAMETERS:,}"))


def read_h5_config(path) -> dict:
    """The checked model description of an .h5 model file (its ``model_config`` attribute),
    read with h5py (never by Keras), after ``check_h5``. Raises ModelError."""
    import h5py

    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(HDF5_MAGIC))
    except OSError as err:
        raise ModelError(_("the file cannot be read: {problem}", problem=_short(err))
                         ) from None
    if magic != HDF5_MAGIC:
        if magic.startswith(ZIP_MAGIC):
            raise ModelError(_(NOT_HDF5))
        raise ModelError(_(NOT_H5_MODEL))
    try:
        with h5py.File(path, "r") as handle:
            check_h5(handle)
            if "model_config" not in handle.attrs:
                raise ModelError(_("this .h5 file holds no model description (only "
                                   "weights?); save the whole model with "
                                   "model.save('name.h5')"))
            attribute = handle.attrs.get_id("model_config")
            if attribute.get_storage_size() > MAX_CONFIG_BYTES:
                raise ModelError(_("the model description is {size} MB; the limit is {limit} "
                                   "MB", size=f"{attribute.get_storage_size() / 1e6:.1f}",
                                   limit=f"{MAX_CONFIG_BYTES / 1e6:.0f}"))
            text = handle.attrs["model_config"]
    except ModelError:
        raise
    except Exception as err:  # noqa: BLE001 - h5py raises OSError, KeyError, TypeError, ...
        raise ModelError(_("this .h5 file is damaged or truncated: {problem}",
                           problem=_short(err, 100))) from None
    return check_config(_parse_config(text))


# --------------------------------------------------------------------------- .keras archives

def read_keras_config(path) -> dict:
    """The checked model description of a .keras archive (its ``config.json``), after the
    archive's limits and ``check_h5`` on its weights. Raises ModelError."""
    import h5py

    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            unzipped = sum(info.file_size for info in infos.values())
            if "config.json" not in infos:
                raise ModelError(_("this file is not a Keras model: the archive has no "
                                   "config.json (save the model with "
                                   "model.save('name.keras'))"))
            if unzipped > MAX_MODEL_UNZIPPED_BYTES:
                raise ModelError(_("the model unpacks to {size} MB; the limit is {limit} MB",
                                   size=f"{unzipped / 1e6:.0f}",
                                   limit=f"{MAX_MODEL_UNZIPPED_BYTES / 1e6:.0f}"))
            if infos["config.json"].file_size > MAX_CONFIG_BYTES:
                raise ModelError(_("the model description is {size} MB; the limit is {limit} "
                                   "MB", size=f"{infos['config.json'].file_size / 1e6:.1f}",
                                   limit=f"{MAX_CONFIG_BYTES / 1e6:.0f}"))
            text = archive.read("config.json")
            weights = archive.read("model.weights.h5") if "model.weights.h5" in infos else None
    except ModelError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        raise ModelError(_(NOT_KERAS_ZIP)) from None
    config = check_config(_parse_config(text))
    if weights is not None:
        try:
            with h5py.File(io.BytesIO(weights), "r") as handle:
                check_h5(handle)
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - a damaged weights file
            raise ModelError(_("the model's weights are damaged: {problem}",
                               problem=_short(err, 100))) from None
    return config


# --------------------------------------------------------------------------- loading

def check_model(model: Any) -> "keras.Model":
    """Return ``model`` if the inspector can show it, else raise ModelError saying why.

    Shown: a keras.Model with one H×W×C picture input (C = 1 or 3, H and W between 4 and
    1,024), one (K,) output of 2 to 1,000 class scores, and layers that each give one tensor;
    a forward pass on a blank picture must work.
    """
    import keras
    import numpy as np

    from playground.core.network import model_layers
    from playground.inspector.explain import layer_outputs
    if not isinstance(model, keras.Model):
        raise ModelError(_("the file holds a {kind}, not a Keras model",
                           kind=type(model).__name__))
    if len(model.inputs) != 1:
        raise ModelError(_("the model has {count} inputs; the inspector shows models with one "
                           "picture input", count=len(model.inputs)))
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or not all(isinstance(d, int) for d in shape):
        raise ModelError(_("the model's input is {shape}, not a picture of H×W×1 (grayscale) "
                           "or H×W×3 (colour)", shape=shape_text(shape)))
    height, width, channels = shape
    if channels not in (1, 3):
        raise ModelError(_("the model's input is {shape}, not {height}×{width}×1 or "
                           "{height}×{width}×3: the inspector feeds it grayscale or RGB "
                           "pictures", shape=shape_text(shape), height=height, width=width))
    if not (MIN_INPUT_SIDE <= height <= MAX_INPUT_SIDE
            and MIN_INPUT_SIDE <= width <= MAX_INPUT_SIDE):
        raise ModelError(_("the model's input is {shape}; the inspector shows pictures of "
                           "{low} to {high} pixels a side", shape=shape_text(shape),
                           low=MIN_INPUT_SIDE, high=MAX_INPUT_SIDE))
    outputs = [tuple(o.shape[1:]) for o in model.outputs]
    if len(outputs) != 1 or len(outputs[0]) != 1 or not isinstance(outputs[0][0], int):
        shapes = ", ".join(shape_text(o) for o in outputs)
        raise ModelError(_("the model outputs {shapes}; the inspector shows classifiers that "
                           "output one score per class", shapes=shapes))
    classes = outputs[0][0]
    if not 2 <= classes <= MAX_CLASSES:
        raise ModelError(_("the model outputs {count} value(s); the inspector shows "
                           "classifiers of 2 to {limit} classes", count=classes,
                           limit=MAX_CLASSES))
    for layer in model_layers(model):
        if not keras.backend.is_keras_tensor(getattr(layer, "output", None)):
            raise ModelError(_("layer {name} does not give one tensor; the inspector shows "
                               "models whose layers each have a single output",
                               name=repr(layer.name)))
    try:
        layer_outputs(model, np.zeros(shape, np.float32))
    except Exception as err:  # noqa: BLE001 - any failure here means "cannot show"
        raise ModelError(_("the model fails on a {shape} input: {problem}",
                           shape=shape_text(shape), problem=_short(err))) from None
    return model


def file_format(name: str) -> str:
    """"keras" or "h5" from a file name's extension; ModelError for any other."""
    suffix = Path(str(name)).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise ModelError(_("a model file must end in .keras or .h5"))
    return _EXTENSIONS[suffix]


def load_model_file(path) -> keras.Model:
    """Load a .keras or .h5 file (by its extension) and check it: the description is checked
    here first (``read_keras_config`` / ``read_h5_config``), then Keras loads it in safe mode
    (no code from the file runs), then ``check_model``.

    Raises ModelError with a one-line message: Lambda layers (arbitrary Python) are refused,
    files that are not Keras models or that the inspector cannot show are explained.
    """
    import keras

    path = os.fspath(path)
    kind = file_format(path)
    if kind == "h5":
        read_h5_config(path)
    else:
        read_keras_config(path)
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        text = str(err)
        if "Lambda" in text or "safe_mode" in text:
            raise ModelError(_(LAMBDA_MESSAGE)) from None
        if "Could not locate" in text or "custom" in text.lower():
            raise ModelError(_("the model uses a custom layer or function that is not part of "
                               "Keras, so it cannot be loaded safely: {problem}",
                               problem=_short(err))) from None
        raise ModelError(_("Keras could not load this model: {problem}", problem=_short(err))
                         ) from None
    return check_model(model)


def load_model_bytes(data: bytes, filename: str = "model.keras") -> keras.Model:
    """An uploaded model file (bytes; ``filename`` only says which format: .keras or .h5) ->
    checked keras.Model, loaded in safe mode.

    The bytes go to a fresh temporary file whose name has nothing to do with the upload's name
    (deleted afterwards). Raises ModelError for an empty or oversized upload, a file whose
    contents are not its format (a .keras renamed .h5 and the reverse), and every reason
    ``load_model_file`` gives.
    """
    kind = file_format(filename)
    if not data:
        raise ModelError(_("the file is empty"))
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(_("the model file is {size} MB; the limit is {limit} MB",
                           size=f"{len(data) / 1e6:.1f}", limit=f"{MAX_MODEL_BYTES / 1e6:.0f}"))
    if kind == "keras" and not data.startswith(ZIP_MAGIC):
        raise ModelError(_(NOT_KERAS_ZIP) + (_(": this one is an HDF5 file, as a .h5 model is; "
                                               "rename it to .h5")
                                             if data.startswith(HDF5_MAGIC) else ""))
    if kind == "h5" and not data.startswith(HDF5_MAGIC):
        if data.startswith(ZIP_MAGIC):
            raise ModelError(_(NOT_HDF5))
        raise ModelError(_(NOT_H5_MODEL))
    fd, tmp = tempfile.mkstemp(prefix="inspector-upload-", suffix="." + kind)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return load_model_file(tmp)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def model_file_bytes(model: keras.Model, kind: str = "keras") -> bytes:
    """The model saved as a .keras archive or an .h5 file (``kind``), as bytes to download."""
    if kind not in FORMATS:
        raise ValueError(f"kind must be one of {FORMATS}, got {kind!r}")
    with tempfile.TemporaryDirectory(prefix="inspector-download-") as folder:
        path = Path(folder) / f"model.{kind}"
        model.save(path)
        return path.read_bytes()


def run_model_path(run_id: str):
    """Path of a saved run's model.keras (ValueError for a malformed id: no paths from URLs)."""
    return runs.run_path(run_id) / "model.keras"


def load_run_model(run_id: str) -> keras.Model:
    """The checked model of a saved run; ModelError if it is missing or cannot be shown."""
    try:
        path = run_model_path(run_id)
    except ValueError as err:
        raise ModelError(str(err)) from None
    if not path.is_file():
        raise ModelError(_("run {run_id} has no saved model", run_id=run_id))
    return load_model_file(path)
