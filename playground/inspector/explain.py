"""Forward passes through a loaded model: every layer's output, saliency, Grad-CAM, filters.

Imports keras and TensorFlow: only import it once a model is loaded.

Works for any model with one H×W×C picture input (C = 1 or 3) and one (K,) output: a picture
is float32 in [0, 1], (H, W, C) (or (H, W) for one channel); heat maps are (H, W).

  * ``input_shape``                    (H, W, C) of the model's input
  * ``layer_outputs`` / ``pipeline``   (layer name, output) for every layer, one forward pass
  * ``predict``                        (K,) float32 class probabilities
  * ``explain``                        saliency, Grad-CAM and HiResCAM, (H, W) float32 in [0, 1]
  * ``layer_filters`` / ``feature_map_detail``   a conv layer's weights, one map large
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from playground.core import layers as modern_layers
from playground.core import network
from playground.i18n import _

_layers = network.model_layers  # the model's layers without its InputLayer


_PROBES: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()


def _probe(model: keras.Model) -> keras.Model:
    """``network.probe_model(model, last_input=True)``, cached per model: outputs are every
    layer's output, the model's output, the last layer's input."""
    probe = _PROBES.get(model)
    if probe is None:
        probe = network.probe_model(model, last_input=True)
        _PROBES[model] = probe
    return probe


def input_shape(model: keras.Model) -> tuple[int, int, int]:
    """(H, W, C) of the model's one picture input (``loading.check_model`` made sure it is)."""
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def model_input(model: keras.Model, picture: np.ndarray) -> np.ndarray:
    """(H, W[, C]) float32 picture in [0, 1] -> (1, H, W, C) float32 batch the model expects.

    A model that starts with a Rescaling layer (e.g. 1/255) was trained on 0..255 pixels and
    gets them; otherwise the pixels are fed in [0, 1], as the playground trains.
    """
    x = np.asarray(picture, dtype=np.float32).reshape(1, *input_shape(model))
    first = _layers(model)[0] if _layers(model) else None
    if isinstance(first, keras.layers.Rescaling) and np.all(np.asarray(first.scale) < 0.1):
        x = x * 255.0
    return x


def _batch(model: keras.Model, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    shape = input_shape(model)
    if x.shape == shape or (shape[2] == 1 and x.shape == shape[:2]):
        return model_input(model, x)
    if x.shape == (1,) + shape:
        return x
    h, w, c = shape
    one = f"({h}, {w}, 1) or ({h}, {w})" if c == 1 else f"({h}, {w}, {c})"
    raise ValueError(f"x must be one {h}×{w}×{c} picture, {one} or (1, {h}, {w}, {c}), got "
                     f"{x.shape}")


def layer_outputs(model: keras.Model, x) -> list[tuple[str, np.ndarray]]:
    """(layer name, output for the single input x without the batch axis) for every layer.

    ``x``: an (H, W, C) picture in [0, 1] ((H, W) for one channel; scaled by ``model_input``)
    or an already prepared (1, H, W, C) batch. One forward pass (inference mode: Dropout is
    the identity) through a cached sub-model whose outputs are all the layers' outputs.
    """
    probe = _probe(model)
    outputs = probe(_batch(model, x), training=False)
    layers = _layers(model)
    return [(layer.name, np.asarray(out)[0]) for layer, out in zip(layers, outputs)]


def pipeline(model: keras.Model, picture) -> list[tuple[str, np.ndarray]]:
    """[("input", (H, W, C) float32 picture)] + ``layer_outputs``: every stage, in order."""
    picture = np.asarray(picture, dtype=np.float32).reshape(input_shape(model))
    return [("input", picture)] + layer_outputs(model, picture)


def predict(model: keras.Model, x) -> np.ndarray:
    """(K,) float32 class probabilities (the model's output) for one picture."""
    return np.asarray(model(_batch(model, x), training=False))[0].astype(np.float32)


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


def _upsample(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) -> ``size`` = (H, W) float32, bilinear (as tf.image.resize)."""
    out = Image.fromarray(heat.astype(np.float32), mode="F").resize(
        (size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def _cam_to_input(cam: np.ndarray, model: keras.Model) -> np.ndarray:
    """Upsample a conv layer's (h, w) map onto the (H, W) input picture it looks at.

    A model that starts with a CenterCrop (the ConvNetJS net on 28×28 digits) only sees the
    centre window: the map covers that window, zero outside.
    """
    full = input_shape(model)[:2]
    first = _layers(model)[0]
    if isinstance(first, keras.layers.CenterCrop):
        height, width = int(first.height), int(first.width)
        top, left = (full[0] - height) // 2, (full[1] - width) // 2
        if 0 <= top and 0 <= left:
            out = np.zeros(full, np.float32)
            out[top:top + height, left:left + width] = _upsample(cam, (height, width))
            return out
    return _upsample(cam, full)


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
    """Saliency and Grad-CAM for one picture, from one forward and one backward pass.

    Returns {"class_index": int (the predicted class unless given), "saliency": (H, W)
    float32 in [0, 1] (|d score / d pixel|, the largest over the colour channels, divided by
    its max), "grad_cam": (H, W) float32 in [0, 1] or None when the model has no usable conv
    layer, "hires_cam": the same with HiResCAM's position-wise weights, "grad_cam_layer": name
    or None}. Grad-CAM and HiResCAM are 0 everywhere when no part of the conv output raises the
    score.
    The score is the class's pre-softmax logit when the model ends in a softmax.
    """
    batch = tf.constant(_batch(model, x))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        last_output, last_input, feature_maps = _forward_for_gradients(model, batch, tape)
        scores = _class_scores(model, last_output, last_input)
        if class_index is None:
            class_index = int(np.argmax(np.asarray(last_output)[0]))
        classes = int(scores.shape[-1])
        if not 0 <= int(class_index) < classes:
            raise ValueError(f"class_index must be in 0..{classes - 1}, got {class_index}")
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
    """(H, W) float32 in [0, 1]: |gradient of the class score w.r.t. each input pixel| (the
    largest over the colour channels)."""
    return explain(model, x, class_index)["saliency"]


def grad_cam(model: keras.Model, x, class_index: Optional[int] = None) -> np.ndarray:
    """(H, W) float32 in [0, 1]: Grad-CAM on the last conv layer, upsampled to the input.

    Raises ValueError when the model has no conv layer.
    """
    cam = explain(model, x, class_index)["grad_cam"]
    if cam is None:
        raise ValueError("the model has no conv layer, so there is no Grad-CAM")
    return cam


def layer_by_name(model: keras.Model, name: str):
    for layer in _layers(model):
        if layer.name == name:
            return layer
    raise ValueError(f"the model has no layer named {name!r}")


def conv_kernel(model: keras.Model, name: str) -> Optional[np.ndarray]:
    """float32 (kh, kw, in_channels, filters) of a 2-D convolution, as Conv2D stores it (a
    Conv2DTranspose's or DepthwiseConv2D's kernel rearranged to that layout:
    ``layers.kernel_as_filters``); None for layers without one (SeparableConv2D too)."""
    layer = layer_by_name(model, name)
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        return None
    kind = type(layer).__name__
    return modern_layers.kernel_as_filters(
        kind if kind in modern_layers.CONV_KINDS else "Conv2D", kernel)


def layer_filters(model: keras.Model, name: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(kernel (filters, in_channels, kh, kw) float32, bias (filters,) float32) of a Conv2D.

    None for layers without a 2-D convolution kernel. Filter j makes feature map j: each of
    its in_channels slices slides over the matching channel of the layer's input.
    """
    kernel = conv_kernel(model, name)
    if kernel is None:
        return None
    weights = kernel.transpose(3, 2, 0, 1)
    bias = getattr(layer_by_name(model, name), "bias", None)
    bias = np.asarray(bias, np.float32) if bias is not None else np.zeros(weights.shape[0],
                                                                         np.float32)
    return weights, bias


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


def layer_description(model: keras.Model, name: str) -> str:
    """Short description of a Keras layer, e.g. 'Conv2D 3×3×32, stride 1, padding same, relu'.

    The Shape Lab's words (``network.describe_layer``) for layers the spec language has; the
    class name alone for the others.
    """
    layer = layer_by_name(model, name)
    kind = type(layer).__name__
    entry = network.spec_layer(layer)
    if entry is None:
        return kind
    try:
        words = network.describe_layer(network.normalize_layer(entry))
    except ValueError:  # a setting the spec language does not allow
        return kind
    if kind == "Dropout":
        words += " " + _("(identity when predicting)")
    return f"{kind} {words}".strip()
