"""What a filter wants to see: feature visualisation by gradient ascent on the input.

For a trained model (a run, an upload, the pretrained one) and one of its conv layers, each
filter gets the input that excites it most: start from faint noise, then repeat "feed the
picture, take the gradient of the filter's mean activation with respect to the pixels, step
uphill", with the usual regularisers of Olah, Mordvintsev & Schubert, "Feature
Visualization" (Distill 2017), so the result is a picture rather than high-frequency noise:

  * jitter   the picture is shifted by a few random pixels before every step (the gradient
             comes back through the shift), so no single pixel position can be exploited;
  * blur     every few steps a small Gaussian blur removes the highest frequencies;
  * decay    every step pulls the pixels a little towards black (L2 decay), so only what
             the filter needs stays lit.

Pixels stay in the range the model was trained on ([0, 1]; ×255 behind a ``Rescaling`` of
1/255), so a generated picture is one the model could be fed. All the filters of a layer are
optimised together as one batch (picture i maximises filter i), which keeps a whole grid to
one small forward and backward pass per step. A class is visualised the same way with its
pre-softmax score (logit) as the objective.

The objective is the mean over all positions of the filter's map through a leaky ReLU (slope
LEAK below zero) of its *pre-activation* (the layer's convolution plus bias): the layer's own
ReLU output is zero where the filter is silent, and a picture that starts silent everywhere
would get no gradient; a plain pre-activation mean rewards pushing silent positions further
down as much as lighting others, and lost to the test digits on a third of the second layer's
filters. What is reported (``filter_activations``) is what Keras computes: the mean of
the layer's own output (after its activation) over all positions, i.e. the mean of the feature
map the Inspector draws.

Arrays: pictures are float32 (N, H, W, C) in [0, 1] with C = 1 or 3, as the model's input.
TensorFlow is imported inside the functions that build or run a model.
"""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from playground.i18n import _

STEPS = 128            # gradient-ascent steps (visibly converged on the pretrained model)
LEARNING_RATE = 0.05   # pixels move by about this much per step (the gradient is normalised)
JITTER = 2             # the largest random shift in pixels, each way
BLUR_EVERY = 4         # steps between two blurs
BLUR_SIGMA = 0.5       # pixels
DECAY = 0.01           # fraction each pixel loses per step
MAX_FILTERS = 64       # the largest grid made in one go
MAX_INPUT_SIDE = 256   # larger pictures: a batch of 64 would hold the server for minutes
LEAK = 0.1             # slope of the objective below zero (see the module's docstring)
CLASS_OBJECTIVE = "classes"   # the "layer" name that asks for class visualisations


@dataclass
class FeatureGrid:
    """What ``visualise`` made for one layer (or for the classes).

    pictures      float32 (N, H, W, C) in [0, 1]: picture i excites unit ``units[i]`` most
    units         the filter (or class) index of each picture
    activations   float32 (N,): each picture's activation of its own unit (filters: mean of
                  the layer's output map over all positions; classes: the pre-softmax score)
    layer         the layer's name, or CLASS_OBJECTIVE
    steps         gradient-ascent steps taken
    """

    pictures: np.ndarray
    units: list[int]
    activations: np.ndarray
    layer: str
    steps: int
    settings: dict = field(default_factory=dict)


def _keras():
    import keras

    return keras


def _layers(model) -> list:
    """The model's layers without its InputLayer."""
    keras = _keras()
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def is_conv_layer(layer) -> bool:
    """A layer with a 2-D convolution kernel and (N, H, W, C) output: Conv2D and its kin
    (DepthwiseConv2D, SeparableConv2D, Conv2DTranspose)."""
    try:
        rank = len(layer.output.shape)
    except (AttributeError, ValueError):
        return False
    return "Conv" in type(layer).__name__ and "2D" in type(layer).__name__ and rank == 4


def conv_layers(model) -> list[tuple[str, int]]:
    """(name, number of filters) of every conv layer, in order."""
    return [(layer.name, int(layer.output.shape[-1])) for layer in _layers(model)
            if is_conv_layer(layer)]


def class_count(model) -> int:
    return int(model.outputs[0].shape[-1])


def model_key(model) -> str:
    """A digest of the model's description and weights: the cache key of its grids (the same
    file loaded twice gives the same key; a retrained model another)."""
    digest = hashlib.sha256(model.to_json().encode("utf-8"))
    for weight in model.weights:
        digest.update(np.ascontiguousarray(np.asarray(weight)).tobytes())
    return digest.hexdigest()[:20]


def input_scale(model) -> float:
    """255 for a model that starts with a Rescaling of about 1/255 (trained on 0..255
    pixels), else 1: the factor between a [0, 1] picture and what the model is fed."""
    keras = _keras()
    layers = _layers(model)
    first = layers[0] if layers else None
    if isinstance(first, keras.layers.Rescaling) and np.all(np.asarray(first.scale) < 0.1):
        return 255.0
    return 1.0


def _layer(model, name: str):
    for layer in _layers(model):
        if layer.name == name:
            return layer
    raise ValueError(f"the model has no layer named {name!r}")


def _without_activation(layer):
    """A copy of ``layer`` with the same weights and no activation (None if it has none)."""
    config = layer.get_config()
    if config.get("activation") in (None, "linear"):
        return None
    clone = type(layer).from_config({**config, "activation": "linear",
                                     "name": f"{layer.name}_pre_activation"})
    clone.build(tuple(layer.input.shape))
    clone.set_weights(layer.get_weights())
    return clone


_OBJECTIVES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _objective(model, layer_name: str):
    """A function (B, H, W, C) model input -> the tensor whose unit means are maximised:
    a conv layer's pre-activation maps (B, h, w, F), or the pre-softmax class scores (B, K).
    Cached per model and layer."""
    cache = _OBJECTIVES.setdefault(model, {})
    if layer_name in cache:
        return cache[layer_name]
    keras = _keras()
    layer = _layers(model)[-1] if layer_name == CLASS_OBJECTIVE else _layer(model, layer_name)
    if layer_name != CLASS_OBJECTIVE and not is_conv_layer(layer):
        raise ValueError(f"{layer_name!r} is not a conv layer")
    if layer_name == CLASS_OBJECTIVE and isinstance(layer, (keras.layers.Softmax,
                                                            keras.layers.Activation)):
        trunk, head = keras.Model(model.inputs[0], layer.input), None
    else:
        head = _without_activation(layer)
        source = layer.input if head is not None else layer.output
        trunk = None if source is model.inputs[0] else keras.Model(model.inputs[0], source)

    def forward(x):
        h = trunk(x, training=False) if trunk is not None else x
        return head(h, training=False) if head is not None else h

    cache[layer_name] = forward
    return forward


def _gaussian_kernel(sigma: float, channels: int) -> np.ndarray:
    """float32 (3, 3, channels, 1): a normalised 3×3 Gaussian, one per channel (depthwise)."""
    t = np.array([-1.0, 0.0, 1.0])
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    k = np.outer(g, g)
    k = (k / k.sum()).astype(np.float32)
    return np.repeat(k[:, :, None, None], channels, axis=2)


def visualise(model, layer_name: str, units: Optional[Sequence[int]] = None, *,
              steps: int = STEPS, learning_rate: float = LEARNING_RATE, jitter: int = JITTER,
              blur_every: int = BLUR_EVERY, blur_sigma: float = BLUR_SIGMA,
              decay: float = DECAY, seed: int = 0) -> FeatureGrid:
    """The input that most excites each unit of ``layer_name`` (a conv layer's filters, or
    the classes with ``layer_name=CLASS_OBJECTIVE``), by regularised gradient ascent.

    ``units``: the filter (or class) indices, default all (at most MAX_FILTERS). Same
    arguments and seed, same pictures. Raises ValueError for an unknown or non-conv layer, a
    unit out of range, or more than MAX_FILTERS units.
    """
    import tensorflow as tf

    if not isinstance(steps, int) or not 1 <= steps <= 2000:
        raise ValueError(f"steps must be an integer in 1..2000, got {steps!r}")
    forward = _objective(model, layer_name)
    count = (class_count(model) if layer_name == CLASS_OBJECTIVE
             else int(_layer(model, layer_name).output.shape[-1]))
    units = list(range(min(count, MAX_FILTERS))) if units is None else [int(u) for u in units]
    if not units or len(units) > MAX_FILTERS:
        raise ValueError(f"ask for 1..{MAX_FILTERS} units at a time, got {len(units)}")
    if any(not 0 <= u < count for u in units):
        raise ValueError(f"units must be in 0..{count - 1}, got {units}")
    height, width, channels = (int(d) for d in model.inputs[0].shape[1:])
    if max(height, width) > MAX_INPUT_SIDE:
        raise ValueError(_("pictures of {height}×{width} are too large to visualise here "
                           "(at most {side} a side)", height=height, width=width,
                           side=MAX_INPUT_SIDE))
    scale = np.float32(input_scale(model))
    rng = np.random.default_rng(seed)
    batch = len(units)
    # Faint noise around a dim grey: no unit is favoured at the start.
    x = tf.Variable((0.1 + 0.05 * rng.standard_normal((batch, height, width, channels)))
                    .clip(0, 1).astype(np.float32))
    mask = tf.constant(np.eye(count, dtype=np.float32)[units])       # (B, units of the layer)
    blur = tf.constant(_gaussian_kernel(blur_sigma, channels))

    @tf.function(reduce_retracing=True)
    def step(dy, dx, do_blur):
        with tf.GradientTape() as tape:
            tape.watch(x)
            shifted = tf.roll(x, shift=[dy, dx], axis=[1, 2])
            out = forward(shifted * scale)
            if len(out.shape) == 4:     # (B, h, w, F): each picture's own map, averaged
                chosen = tf.reduce_sum(out * mask[:, None, None, :], axis=-1)
                chosen = tf.nn.leaky_relu(chosen, alpha=LEAK)
                score = tf.reduce_mean(chosen, axis=[1, 2])
            else:                       # (B, K): each picture's own class score
                score = tf.reduce_sum(out * mask, axis=-1)
            total = tf.reduce_sum(score)
        grad = tape.gradient(total, x)
        # Normalised per picture, so every unit climbs at the same pace whatever its scale.
        rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True)) + 1e-8
        value = x + learning_rate * grad / rms
        value = value * (1.0 - decay)
        if do_blur:
            value = tf.nn.depthwise_conv2d(tf.pad(value, [[0, 0], [1, 1], [1, 1], [0, 0]],
                                                  mode="SYMMETRIC"), blur,
                                           strides=[1, 1, 1, 1], padding="VALID")
        x.assign(tf.clip_by_value(value, 0.0, 1.0))
        return score

    shifts = rng.integers(-jitter, jitter + 1, size=(steps, 2)) if jitter else \
        np.zeros((steps, 2), int)
    for i in range(steps):
        # No blur on the last steps: the final picture is sharp where the filter wants it.
        do_blur = bool(blur_every) and i % blur_every == blur_every - 1 and i < steps - 4
        step(tf.constant(int(shifts[i, 0])), tf.constant(int(shifts[i, 1])),
             tf.constant(do_blur))
    pictures = x.numpy()
    activations = unit_activations(model, layer_name, pictures)[np.arange(batch), units]
    return FeatureGrid(pictures, units, activations.astype(np.float32), layer_name, steps,
                       dict(learning_rate=learning_rate, jitter=jitter, blur_every=blur_every,
                            blur_sigma=blur_sigma, decay=decay, seed=seed))


_PROBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def as_pictures(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) test pictures, 0..255 -> float32 (N, H, W, C) in
    [0, 1], as the playground feeds them."""
    images = np.asarray(images)
    out = images.astype(np.float32) / np.float32(255.0 if images.dtype == np.uint8 else 1.0)
    return out[..., None] if out.ndim == 3 else out


def unit_activations(model, layer_name: str, pictures: np.ndarray,
                     batch_size: int = 500) -> np.ndarray:
    """float32 (N, units): ``filter_activations`` for a conv layer; for CLASS_OBJECTIVE the
    pre-softmax class scores (N, K) (the objective itself)."""
    if layer_name != CLASS_OBJECTIVE:
        return filter_activations(model, layer_name, pictures, batch_size)
    forward = _objective(model, CLASS_OBJECTIVE)
    scale = np.float32(input_scale(model))
    pictures = np.asarray(pictures, np.float32)
    out = [np.asarray(forward(pictures[i:i + batch_size] * scale))
           for i in range(0, len(pictures), batch_size)]
    return np.concatenate(out).astype(np.float32)


def filter_activations(model, layer_name: str, pictures: np.ndarray,
                       batch_size: int = 500) -> np.ndarray:
    """float32 (N, F): the mean over all positions of each of the layer's output maps (after
    its activation, as Keras computes the layer) for N pictures (N, H, W, C) in [0, 1]."""
    keras = _keras()
    probes = _PROBES.setdefault(model, {})
    if layer_name not in probes:
        probes[layer_name] = keras.Model(model.inputs[0], _layer(model, layer_name).output)
    probe = probes[layer_name]
    scale = np.float32(input_scale(model))
    pictures = np.asarray(pictures, np.float32)
    out = [np.asarray(probe(pictures[i:i + batch_size] * scale, training=False)).mean(axis=(1, 2))
           for i in range(0, len(pictures), batch_size)]
    return np.concatenate(out).astype(np.float32)
