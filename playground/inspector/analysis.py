"""Look inside a trained digit classifier: pre-process a digit, every layer's output, saliency.

Imports keras and TensorFlow (only the Model Inspector page uses this module).

Everything here works on one digit at a time:
  * ``preprocess_digit``   any photo / canvas drawing of one digit -> MNIST-style (28, 28) float32
  * ``load_model_bytes`` / ``load_run_model``   a .keras file -> a checked keras.Model (safe mode)
  * ``layer_outputs``      (layer name, output) for every layer, from one forward pass
  * ``saliency`` / ``grad_cam``   (28, 28) float32 maps in [0, 1] of what moved the prediction
  * ``summary_rows``       layer, output shape, parameters — from Keras and from the Shape Lab
"""
from __future__ import annotations

import os
import tempfile
import weakref
import zipfile
from typing import Any, Optional

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from playground.datasets import images

from playground.core import network

from playground.core import runs

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
# The course's largest net with its optimizer state is ~10 MB; leave room, refuse the absurd.
MAX_MODEL_BYTES = 20 * 1024 * 1024
# A .keras file is a zip: refuse archives that inflate far beyond any model we could show.
MAX_MODEL_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000

_BOX = 20     # MNIST: the digit is scaled to fit a 20×20 box ...
_FIELD = 28   # ... and centred by centre of mass in a 28×28 field.
_INK_THRESHOLD = 0.2  # fraction of the stroke's strength below which a pixel is background


class ModelError(ValueError):
    """A model file the inspector cannot use; ``str(err)`` is a one-line message for the user."""


# ---------------------------------------------------------------------------------------------
# Pre-processing a digit the way MNIST was made
# ---------------------------------------------------------------------------------------------

def _as_unit_float(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.dtype == object or arr.size == 0:
        raise ValueError(f"image must be a non-empty numeric array, got shape {arr.shape}")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"image must be (H, W) or (H, W, C) with C in 1..4, got {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        top = 65535.0 if arr.dtype.itemsize > 1 and arr.max(initial=0) > 255 else 255.0
        return np.clip(arr.astype(np.float32) / top, 0.0, 1.0)
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError("image contains NaN or infinite values")
    if arr.max(initial=0.0) > 1.0:  # a float image on the 0..255 scale
        arr = arr / 255.0
    return np.clip(arr, 0.0, 1.0)


def _grayscale(arr: np.ndarray) -> np.ndarray:
    """(H, W[, C]) float in [0, 1] -> (H, W) float32; transparent pixels become background."""
    if arr.ndim == 2:
        return arr
    channels = arr.shape[2]
    colour = arr[..., : (3 if channels >= 3 else 1)]
    # ITU-R 601-2 luma, the weights Pillow's convert("L") uses.
    gray = colour[..., 0] if colour.shape[2] == 1 else colour @ np.float32([0.299, 0.587, 0.114])
    if channels in (2, 4):
        alpha = arr[..., -1]
        if alpha.max() <= 0.0:
            return np.zeros(gray.shape, np.float32)
        # A canvas draws ink on a transparent background: lay it on the colour that contrasts
        # with the ink, so black-on-transparent and white-on-transparent both read as a digit.
        ink = float((gray * alpha).sum() / alpha.sum())
        background = 1.0 if ink < 0.5 else 0.0
        gray = gray * alpha + background * (1.0 - alpha)
    return gray.astype(np.float32)


def _border(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    width = max(1, min(h, w) // 20)
    return np.concatenate([gray[:width].ravel(), gray[-width:].ravel(),
                           gray[:, :width].ravel(), gray[:, -width:].ravel()])


def ink_image(image) -> np.ndarray:
    """Any digit image -> (H, W) float32 in [0, 1]: ink white (1) on a black (0) background.

    The background is what the image's border mostly is; a light border means dark-on-light
    and the image is inverted. Background level is subtracted and faint noise (below 20 % of
    the stroke's strength) cleared, so a grey sheet of paper becomes black.
    Raises ValueError when no digit stands out from the background.
    """
    gray = _grayscale(_as_unit_float(image))
    if gray.shape[0] < 2 or gray.shape[1] < 2:
        raise ValueError(f"image is too small to hold a digit: {gray.shape[1]}×{gray.shape[0]} px")
    background = float(np.median(_border(gray)))
    if background > 0.5:
        gray = 1.0 - gray
        background = 1.0 - background
    ink = gray - background
    strength = float(ink.max())
    if strength < 0.1:
        raise ValueError("no digit found: the image is blank (nothing stands out from the "
                         "background)")
    ink = np.clip(ink / strength, 0.0, 1.0)
    ink[ink < _INK_THRESHOLD] = 0.0
    return ink.astype(np.float32)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 -> (size[1], size[0]) float32, anti-aliased (Pillow, mode F)."""
    out = Image.fromarray(arr.astype(np.float32), mode="F").resize(
        size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def _centre_of_mass(arr: np.ndarray) -> tuple[float, float]:
    total = float(arr.sum())
    rows, cols = np.indices(arr.shape)
    return float((rows * arr).sum() / total), float((cols * arr).sum() / total)


def preprocess_digit(image) -> np.ndarray:
    """One digit image -> (28, 28) float32 in [0, 1], white digit on black, as MNIST was made.

    ``image``: (H, W) or (H, W, C) with C = 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA, e.g.
    a canvas drawing), uint8 / uint16 / bool / float (0..1 or 0..255), dark-on-light or
    light-on-dark. Steps (LeCun et al.'s recipe): grayscale, invert if the background is light,
    crop to the digit's bounding box, scale to fit a 20×20 box keeping the aspect ratio
    (anti-aliased), then place it in a 28×28 field so that its centre of mass is at pixel
    index (row, col) = (14, 14), where MNIST's digits have theirs.
    Raises ValueError for a blank image or one that is not an image array.
    """
    ink = ink_image(image)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    digit = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = digit.shape
    scale = _BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    digit = _resize(digit, size)
    if digit.sum() <= 0:
        raise ValueError("no digit found: the strokes vanish when scaled to 20×20 px")
    h, w = digit.shape
    com_row, com_col = _centre_of_mass(digit)
    # MNIST's digits have their centre of mass at pixel index (14, 14) (measured on the test
    # set: mean 14.0 ± 0.3 on both axes), not at the geometric middle 13.5.
    centre = _FIELD / 2.0
    # Integer placement keeps the strokes crisp; clamped so the digit is never cut off.
    top = int(np.clip(round(centre - com_row), 0, _FIELD - h))
    left = int(np.clip(round(centre - com_col), 0, _FIELD - w))
    out = np.zeros((_FIELD, _FIELD), np.float32)
    out[top:top + h, left:left + w] = digit
    return out


def decode_photo(data: bytes) -> np.ndarray:
    """Bytes of an uploaded picture -> (H, W, 3) uint8 RGB, upright (EXIF orientation applied),
    transparency composited on white.

    The Filter Lab's decoder (:func:`playground.datasets.images.load`): the same format whitelist (no
    EPS or other plugin that would run an outside program), Pillow's decompression-bomb guard
    and size checks, with this box's limits. Raises ValueError (``images.ImageError``) with a
    one-line message.
    """
    return images.load(data, "The photo", max_bytes=MAX_PHOTO_BYTES,
                       max_pixels=MAX_PHOTO_PIXELS).pixels


# ---------------------------------------------------------------------------------------------
# Loading models safely
# ---------------------------------------------------------------------------------------------

def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_model(model: Any) -> keras.Model:
    """Return ``model`` if the inspector can show it, else raise ModelError saying why.

    Shown: a keras.Model with one 28×28×1 input, one (10,) output, and layers that each give
    one tensor; a forward pass on a blank digit must work.
    """
    if not isinstance(model, keras.Model):
        raise ModelError(f"the file holds a {type(model).__name__}, not a Keras model")
    if len(model.inputs) != 1:
        raise ModelError(f"the model has {len(model.inputs)} inputs; the inspector shows "
                         "models with one 28×28×1 image input")
    shape = tuple(model.inputs[0].shape[1:])
    if shape != INPUT_SHAPE:
        text = "×".join("?" if d is None else str(d) for d in shape)
        raise ModelError(f"the model's input is {text}, not 28×28×1: the inspector feeds it "
                         "28×28 grayscale MNIST digits")
    if len(model.outputs) != 1 or tuple(model.outputs[0].shape[1:]) != (NUM_CLASSES,):
        shapes = ", ".join(str(tuple(o.shape[1:])) for o in model.outputs)
        raise ModelError(f"the model outputs {shapes}; the inspector shows digit classifiers "
                         "with 10 class probabilities")
    for layer in _layers(model):
        if not keras.backend.is_keras_tensor(getattr(layer, "output", None)):
            raise ModelError(f"layer {layer.name!r} does not give one tensor; the inspector "
                             "shows models whose layers each have a single output")
    try:
        layer_outputs(model, np.zeros(INPUT_SHAPE[:2], np.float32))
    except Exception as err:  # noqa: BLE001 - any failure here means "cannot show"
        raise ModelError(f"the model fails on a 28×28×1 input: {_short(err)}") from None
    return model


def load_model_file(path) -> keras.Model:
    """Load a .keras file in Keras' safe mode (no code from the file runs) and check it.

    Raises ModelError with a one-line message: Lambda layers (arbitrary Python) are refused,
    files that are not Keras models or that the inspector cannot show are explained.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise ModelError("this file is not a Keras model: a .keras file is a zip archive "
                         "saved by model.save('name.keras')") from None
    if "config.json" not in names:
        raise ModelError("this file is not a Keras model: the archive has no config.json "
                         "(save the model with model.save('name.keras'))")
    if unzipped > MAX_MODEL_UNZIPPED_BYTES:
        raise ModelError(f"the model unpacks to {unzipped / 1e6:.0f} MB; the limit is "
                         f"{MAX_MODEL_UNZIPPED_BYTES / 1e6:.0f} MB")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        text = str(err)
        if "Lambda" in text or "safe_mode" in text:
            raise ModelError("refused: the model contains a Lambda layer, i.e. arbitrary Python "
                             "code; the inspector loads models in Keras' safe mode and never "
                             "runs code from a file") from None
        if "Could not locate" in text or "custom" in text.lower():
            raise ModelError("the model uses a custom layer or function that is not part of "
                             f"Keras, so it cannot be loaded safely: {_short(err)}") from None
        raise ModelError(f"Keras could not load this model: {_short(err)}") from None
    return check_model(model)


def load_model_bytes(data: bytes) -> keras.Model:
    """An uploaded .keras file (bytes) -> checked keras.Model, loaded in safe mode.

    The bytes go to a fresh temporary file whose name has nothing to do with the upload's name
    (deleted afterwards). Raises ModelError for an empty or oversized upload and every reason
    ``load_model_file`` gives.
    """
    if not data:
        raise ModelError("the file is empty")
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"the model file is {len(data) / 1e6:.1f} MB; the limit is "
                         f"{MAX_MODEL_BYTES / 1e6:.0f} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError("this file is not a Keras model: a .keras file is a zip archive "
                         "saved by model.save('name.keras')")
    fd, tmp = tempfile.mkstemp(prefix="inspector-upload-", suffix=".keras")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return load_model_file(tmp)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


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
        raise ModelError(f"run {run_id} has no saved model")
    return load_model_file(path)


# ---------------------------------------------------------------------------------------------
# One forward pass through every layer
# ---------------------------------------------------------------------------------------------

def _layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


_PROBES: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()


def _probe(model: keras.Model) -> keras.Model:
    """keras.Model(input -> [every layer's output..., the last layer's input]), cached."""
    probe = _PROBES.get(model)
    if probe is None:
        layers = _layers(model)
        outputs = [layer.output for layer in layers] + [layers[-1].input]
        probe = keras.Model(model.inputs[0], outputs, name=f"{model.name}_probe")
        _PROBES[model] = probe
    return probe


def model_input(model: keras.Model, digit: np.ndarray) -> np.ndarray:
    """(28, 28) float32 digit in [0, 1] -> (1, 28, 28, 1) float32 batch the model expects.

    A model that starts with a Rescaling layer (e.g. 1/255) was trained on 0..255 pixels and
    gets them; otherwise the pixels are fed in [0, 1], as the playground trains.
    """
    x = np.asarray(digit, dtype=np.float32).reshape(1, *INPUT_SHAPE)
    first = _layers(model)[0] if _layers(model) else None
    if isinstance(first, keras.layers.Rescaling) and np.all(np.asarray(first.scale) < 0.1):
        x = x * 255.0
    return x


def _batch(model: keras.Model, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.shape == INPUT_SHAPE[:2] or x.shape == INPUT_SHAPE:
        return model_input(model, x)
    if x.shape == (1,) + INPUT_SHAPE:
        return x
    raise ValueError(f"x must be one 28×28 digit, (28, 28[, 1]) or (1, 28, 28, 1), got {x.shape}")


def layer_outputs(model: keras.Model, x) -> list[tuple[str, np.ndarray]]:
    """(layer name, output for the single input x without the batch axis) for every layer.

    ``x``: a (28, 28) / (28, 28, 1) digit in [0, 1] (scaled by ``model_input``) or an already
    prepared (1, 28, 28, 1) batch. One forward pass (inference mode: Dropout is the identity)
    through a cached sub-model whose outputs are all the layers' outputs.
    """
    probe = _probe(model)
    outputs = probe(_batch(model, x), training=False)
    layers = _layers(model)
    return [(layer.name, np.asarray(out)[0]) for layer, out in zip(layers, outputs)]


def pipeline(model: keras.Model, digit) -> list[tuple[str, np.ndarray]]:
    """[("input", (28, 28, 1) float32 digit)] + ``layer_outputs``: every stage, in order."""
    digit = np.asarray(digit, dtype=np.float32).reshape(INPUT_SHAPE)
    return [("input", digit)] + layer_outputs(model, digit)


def predict(model: keras.Model, x) -> np.ndarray:
    """(10,) float32 class probabilities for one digit."""
    return np.asarray(model(_batch(model, x), training=False))[0].astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Saliency and Grad-CAM
# ---------------------------------------------------------------------------------------------

def _is_softmax(activation) -> bool:
    return getattr(activation, "__name__", str(activation)) == "softmax"


def _class_scores(model: keras.Model, last_output, last_input):
    """Pre-softmax scores (logits) when the model ends in softmax, else the outputs.

    Gradients of softmax probabilities saturate near 1; saliency and Grad-CAM use the class
    score before the softmax (Simonyan et al. 2013, Selvaraju et al. 2017).
    """
    last = _layers(model)[-1]
    if isinstance(last, keras.layers.Dense) and _is_softmax(last.activation):
        logits = tf.matmul(last_input, last.kernel)
        return logits + last.bias if last.use_bias else logits
    if isinstance(last, keras.layers.Softmax) or (
            isinstance(last, keras.layers.Activation) and _is_softmax(last.activation)):
        return last_input
    return last_output


def last_conv_layer(model: keras.Model) -> Optional[str]:
    """Name of the last layer with a convolution kernel and an (H, W, C) output, or None."""
    name = None
    for layer in _layers(model):
        if isinstance(layer, keras.layers.Conv2D) or "Conv2D" in type(layer).__name__:
            name = layer.name
    return name


def _upsample(heat: np.ndarray, size=(28, 28)) -> np.ndarray:
    out = Image.fromarray(heat.astype(np.float32), mode="F").resize(
        (size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def _cam_to_input(cam: np.ndarray, model: keras.Model) -> np.ndarray:
    """Upsample a conv layer's (h, w) map onto the 28×28 input it looks at.

    A model that starts with a CenterCrop (the ConvNetJS net on 28×28 digits) only sees the
    centre window: the map covers that window, zero outside.
    """
    first = _layers(model)[0]
    if isinstance(first, keras.layers.CenterCrop):
        height, width = int(first.height), int(first.width)
        top, left = (INPUT_SHAPE[0] - height) // 2, (INPUT_SHAPE[1] - width) // 2
        if 0 <= top and 0 <= left:
            out = np.zeros(INPUT_SHAPE[:2], np.float32)
            out[top:top + height, left:left + width] = _upsample(cam, (height, width))
            return out
    return _upsample(cam, INPUT_SHAPE[:2])


def _unit(heat: np.ndarray) -> np.ndarray:
    top = float(heat.max(initial=0.0))
    return (heat / top).astype(np.float32) if top > 0 else np.zeros_like(heat, np.float32)


_SPLITS: "weakref.WeakKeyDictionary[keras.Model, Any]" = weakref.WeakKeyDictionary()


def _split_at_last_conv(model: keras.Model):
    """For a functional model: (input -> last conv output, conv output -> [output, last
    layer's input]), or None when the graph does not continue from the conv output alone."""
    if model in _SPLITS:
        return _SPLITS[model]
    split = None
    name = last_conv_layer(model)
    if name is not None:
        conv = layer_by_name(model, name)
        last = _layers(model)[-1]
        try:
            split = (keras.Model(model.inputs[0], conv.output),
                     keras.Model(conv.output, [last.output, last.input]))
        except Exception:  # noqa: BLE001 - a branch around the conv layer: no Grad-CAM
            split = None
    _SPLITS[model] = split
    return split


def _forward_for_gradients(model: keras.Model, batch, tape):
    """(output, last layer's input, last conv output or None), all recorded on ``tape``.

    The outputs of one functional model are copies the tape cannot differentiate to, so the
    conv output must be a tensor of this pass: a Sequential runs layer by layer, a functional
    model through two sub-models split at the last conv layer.
    """
    conv_name = last_conv_layer(model)
    if isinstance(model, keras.Sequential):
        h, previous, feature_maps = batch, batch, None
        for layer in _layers(model):
            previous = h
            h = layer(h, training=False)
            if layer.name == conv_name:
                feature_maps = h
                tape.watch(feature_maps)
        return h, previous, feature_maps
    split = _split_at_last_conv(model)
    if split is not None:
        feature_maps = split[0](batch, training=False)
        tape.watch(feature_maps)
        output, last_input = split[1](feature_maps, training=False)
        return output, last_input, feature_maps
    outputs = _probe(model)(batch, training=False)
    return outputs[-2], outputs[-1], None


def explain(model: keras.Model, x, class_index: Optional[int] = None) -> dict:
    """Saliency and Grad-CAM for one digit, from one forward and one backward pass.

    Returns {"class_index": int (the predicted class unless given), "saliency": (28, 28)
    float32 in [0, 1] (|d score / d pixel|, divided by its max), "grad_cam": (28, 28) float32
    in [0, 1] or None when the model has no usable conv layer, "hires_cam": the same with
    HiResCAM's position-wise weights, "grad_cam_layer": name or None}. Grad-CAM and HiResCAM
    are 0 everywhere when no part of the conv output raises the score.
    The score is the class's pre-softmax logit when the model ends in a softmax.
    """
    batch = tf.constant(_batch(model, x))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        last_output, last_input, feature_maps = _forward_for_gradients(model, batch, tape)
        scores = _class_scores(model, last_output, last_input)
        if class_index is None:
            class_index = int(np.argmax(np.asarray(last_output)[0]))
        if not 0 <= int(class_index) < NUM_CLASSES:
            raise ValueError(f"class_index must be in 0..9, got {class_index}")
        class_index = int(class_index)
        score = scores[0, class_index]
    watched = [batch] + ([feature_maps] if feature_maps is not None else [])
    grads = tape.gradient(score, watched)
    saliency_map = np.abs(np.asarray(grads[0])[0]).max(axis=-1)
    result = {"class_index": class_index, "saliency": _unit(saliency_map), "grad_cam": None,
              "hires_cam": None,
              "grad_cam_layer": last_conv_layer(model) if feature_maps is not None else None}
    if feature_maps is not None and grads[1] is not None:
        maps = np.asarray(feature_maps)[0]                    # (h, w, K)
        map_grads = np.asarray(grads[1])[0]                   # (h, w, K)
        weights = map_grads.mean(axis=(0, 1))                 # (K,) global-average gradients
        cam = np.maximum(maps @ weights, 0.0)
        result["grad_cam"] = _unit(np.maximum(_cam_to_input(cam, model), 0.0))
        # HiResCAM (Draelos & Carin 2020): gradient times activation at each position, so a
        # Flatten -> Dense head keeps where each feature counted.
        hires = np.maximum((maps * map_grads).sum(axis=-1), 0.0)
        result["hires_cam"] = _unit(np.maximum(_cam_to_input(hires, model), 0.0))
    return result


def saliency(model: keras.Model, x, class_index: Optional[int] = None) -> np.ndarray:
    """(28, 28) float32 in [0, 1]: |gradient of the class score w.r.t. each input pixel|."""
    return explain(model, x, class_index)["saliency"]


def grad_cam(model: keras.Model, x, class_index: Optional[int] = None) -> np.ndarray:
    """(28, 28) float32 in [0, 1]: Grad-CAM on the last conv layer, upsampled to the input.

    Raises ValueError when the model has no conv layer.
    """
    cam = explain(model, x, class_index)["grad_cam"]
    if cam is None:
        raise ValueError("the model has no conv layer, so there is no Grad-CAM")
    return cam


# ---------------------------------------------------------------------------------------------
# Filters, layer descriptions, the summary table
# ---------------------------------------------------------------------------------------------

def layer_by_name(model: keras.Model, name: str):
    for layer in _layers(model):
        if layer.name == name:
            return layer
    raise ValueError(f"the model has no layer named {name!r}")


def layer_filters(model: keras.Model, name: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(kernel (filters, in_channels, kh, kw) float32, bias (filters,) float32) of a Conv2D.

    None for layers without a 2-D convolution kernel. Filter j makes feature map j: each of
    its in_channels slices slides over the matching channel of the layer's input.
    """
    layer = layer_by_name(model, name)
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        return None
    weights = np.asarray(kernel, dtype=np.float32).transpose(3, 2, 0, 1)
    bias = getattr(layer, "bias", None)
    bias = np.asarray(bias, np.float32) if bias is not None else np.zeros(weights.shape[0],
                                                                         np.float32)
    return weights, bias


def as_digit(image) -> np.ndarray:
    """An MNIST uint8 (28, 28) digit (0..255) -> (28, 28) float32 in [0, 1], the network input."""
    image = np.asarray(image)
    if image.shape != INPUT_SHAPE[:2]:
        raise ValueError(f"image must be a 28×28 MNIST digit, got shape {image.shape}")
    scale = 255.0 if np.issubdtype(image.dtype, np.integer) else 1.0
    return (image.astype(np.float32) / np.float32(scale)).astype(np.float32)


def top_class(probabilities) -> int:
    """The predicted digit: the index of the largest probability."""
    return int(np.argmax(probabilities))


def feature_map_detail(model: keras.Model, name: str, output: np.ndarray, index: int,
                       previous: Optional[tuple[str, np.ndarray]] = None) -> dict:
    """Everything about feature map ``index`` of layer ``name`` for the large view.

    ``output``: the layer's (H, W, C) output; ``previous``: (name, output) of the layer before.
    Returns {"map": (H, W) float32, "kernel": (in_channels, kh, kw) float32 or None,
    "bias": float or None, "source": the previous layer's map with the same number, (H', W')
    float32, for layers without a kernel that keep the channel count (pooling), else None,
    "source_name": str or None}. Raises ValueError for an index out of range.
    """
    output = np.asarray(output)
    if output.ndim != 3 or not 0 <= int(index) < output.shape[-1]:
        raise ValueError(f"feature map {index} does not exist in an output of shape "
                         f"{output.shape}")
    index = int(index)
    detail = {"map": output[..., index].astype(np.float32), "kernel": None, "bias": None,
              "source": None, "source_name": None}
    filters = layer_filters(model, name)
    if filters is not None:
        kernel, bias = filters
        detail["kernel"], detail["bias"] = kernel[index], float(bias[index])
    elif previous is not None and np.ndim(previous[1]) == 3 and \
            previous[1].shape[-1] == output.shape[-1]:
        detail["source"] = np.asarray(previous[1])[..., index].astype(np.float32)
        detail["source_name"] = previous[0]
    return detail


def shape_text(shape) -> str:
    return "×".join(str(d) for d in shape)


def _stride_text(strides) -> str:
    strides = tuple(strides)
    return str(strides[0]) if len(set(strides)) == 1 else shape_text(strides)


def describe_output(output: np.ndarray) -> str:
    """'28×28×32 · min 0.000 · max 2.714' for one layer's output."""
    return (f"{shape_text(output.shape)} · min {float(output.min()):.3f} · "
            f"max {float(output.max()):.3f}")


def output_kind(output: np.ndarray) -> str:
    """'maps' for (H, W, C) outputs, 'vector' for (N,), 'other' otherwise."""
    return {3: "maps", 1: "vector"}.get(np.ndim(output), "other")


def layer_description(model: keras.Model, name: str) -> str:
    """Short description of a Keras layer, e.g. 'Conv2D 3×3×32, stride 1, same, relu'."""
    layer = layer_by_name(model, name)
    config = layer.get_config()
    kind = type(layer).__name__
    activation = config.get("activation")
    act = f", {activation}" if activation not in (None, "linear") else ""
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = config["kernel_size"]
        return (f"{kind} {kh}×{kw}×{config['filters']}, stride {_stride_text(config['strides'])},"
                f" {config['padding']}{act}")
    if "Pooling2D" in kind:
        ph, pw = config["pool_size"]
        return f"{kind} {ph}×{pw}, stride {_stride_text(config['strides'])}, {config['padding']}"
    if isinstance(layer, keras.layers.Dense):
        return f"{kind} {config['units']} units{act}"
    if isinstance(layer, keras.layers.Dropout):
        return f"{kind} rate {config['rate']:g} (identity when predicting)"
    return kind


def _pair(value):
    value = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    return value[0] if value[0] == value[1] else list(value)


def _activation_name(config) -> Optional[str]:
    name = config.get("activation")
    return None if name in (None, "linear") else name


def spec_from_model(model: keras.Model) -> Optional[tuple[dict, list[int]]]:
    """The network spec (playground.core.network) a Keras model corresponds to, if there is one.

    Returns (validated spec, for each spec layer the index in ``model.layers`` (without the
    input layer) of the Keras layer whose output it describes), or None when some layer has no
    counterpart in the spec language. Leading parameter-free preprocessing layers (crop,
    rescale, resize) are skipped: the spec's input is their output.
    """
    layers = _layers(model)
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
        if kind == "Conv2D":
            if not config.get("use_bias", True) or config.get("groups", 1) != 1:
                return None
            padding = config["padding"]
            if pending_pad is not None:
                if padding != "valid":
                    return None
                padding, pending_pad = pending_pad, None
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
        else:
            return None
        spec_layers.append(entry)
        index.append(i)
    if pending_pad is not None:
        return None
    try:
        spec = network.validate({"input_shape": [int(d) for d in input_shape],
                                 "layers": spec_layers})
    except ValueError:
        return None
    return spec, index


def summary_rows(model: keras.Model) -> list[dict]:
    """The model summary: one dict per Keras layer.

    Keys: "layer" (name), "type", "output shape" (e.g. '28×28×32'), "parameters" (Keras'
    count_params), and, when the model corresponds to a network spec, "Shape Lab shape" and
    "Shape Lab parameters" from ``network.layer_rows`` (None for layers the spec folds into
    the next one, like the ZeroPadding2D of an explicitly padded conv).
    """
    layers = _layers(model)
    matched = spec_from_model(model)
    lab: dict[int, Any] = {}
    if matched is not None:
        spec, index = matched
        for row, i in zip(network.layer_rows(spec), index):
            lab[i] = row
    rows = []
    for i, layer in enumerate(layers):
        row = {"layer": layer.name, "type": type(layer).__name__,
               "output shape": shape_text(layer.output.shape[1:]),
               "parameters": int(layer.count_params())}
        if matched is not None:
            lab_row = lab.get(i)
            row["Shape Lab shape"] = shape_text(lab_row.output_shape) if lab_row else None
            row["Shape Lab parameters"] = lab_row.params if lab_row else None
        rows.append(row)
    return rows


def total_params(model: keras.Model) -> int:
    return int(model.count_params())


def safe_name(text, limit: int = 60) -> str:
    """A layer or model name from a file, reduced to letters, digits and ``_ . -`` for display.

    Names in uploaded models are user-supplied text: Markdown and Plotly titles would render
    links or tags in them, so everything else becomes ``_``.
    """
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "_"
                      for ch in str(text))
    return cleaned[:limit] or "_"


def probabilities_text(probabilities: np.ndarray) -> str:
    best = int(np.argmax(probabilities))
    return f"{best} ({100 * float(probabilities[best]):.1f} %)"


__all__ = [
    "INPUT_SHAPE", "MAX_MODEL_BYTES", "MAX_PHOTO_BYTES", "as_digit", "check_model",
    "decode_photo", "describe_output", "explain", "feature_map_detail", "grad_cam", "ink_image",
    "last_conv_layer", "layer_by_name", "layer_description", "layer_filters", "layer_outputs",
    "load_model_bytes", "load_model_file", "load_run_model", "model_input", "ModelError",
    "output_kind", "pipeline", "predict", "preprocess_digit", "run_model_path", "safe_name",
    "saliency", "shape_text", "spec_from_model", "summary_rows", "top_class", "total_params",
]
