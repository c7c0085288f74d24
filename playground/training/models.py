"""Keras models built from the shared network description in :mod:`playground.core.network`, and
everything a training job needs to compile and schedule them.

Imports keras (and so TensorFlow): the training worker and model loading import it, never a
page before a model is built or run. The settings (optimizers, recipes, the MNIST input shape)
are in the TF-free ``playground.training.settings``.

How a training job uses it (the whole recipe, in the order to call things)::

    from playground.datasets import mnist

    from playground.training import models, settings as training_settings
    settings = {**training_settings.training_defaults(preset_name), **user_choices}
    part = mnist.mnist_slice(settings["train_examples"], settings["validation_split"],
                             settings["seed"])
    model = models.build_for_training(preset_name_or_spec, settings)   # seeded, in a strategy
    callbacks = models.training_callbacks(settings, steps_per_epoch=ceil(len(part.y_train)
                                          / settings["batch_size"]))   # LR schedule, if any
    model.fit(part.x_train, part.y_train, batch_size=settings["batch_size"],
              epochs=settings["epochs"], validation_data=part.validation_data,
              callbacks=callbacks + [streaming_callback])

Models take float32 (N, H, W, C) in [0, 1] (``mnist.to_float``) and give softmax probabilities
float32 (N, 10). Labels are integer class ids (uint8 (N,)).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import keras

from playground.core import network
from playground.training.settings import (
    DEFAULT_LEARNING_RATES,
    LR_SCHEDULES,
    MNIST,
    MNIST_INPUT_SHAPE,
    OPTIMIZERS,
    DataInfo,
    check_spec,
    input_fit,
    training_defaults,
)

# The course's networks (display name -> spec); the same dict the Shape Lab offers.
PRESETS = network.PRESETS


# ---------------------------------------------------------------------------- networks

def _resolve(name_or_spec: Union[str, dict]) -> dict:
    if isinstance(name_or_spec, str):
        return network.preset(name_or_spec)
    if not isinstance(name_or_spec, dict):
        raise ValueError(f"network must be a preset name or a spec dict, got {name_or_spec!r}")
    return name_or_spec


def with_dropout(spec: dict, rate: Optional[float]) -> dict:
    """A validated copy of ``spec`` with every Dropout layer's rate set to ``rate``.

    ``rate=None`` leaves the spec's own rates. A network without Dropout layers is unchanged
    (the override sets rates; it does not add layers). Raises ValueError for rate outside [0, 1).
    """
    spec = network.validate(spec)
    if rate is None:
        return spec
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"dropout must be a number in [0, 1), got {rate!r}") from None
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {rate}")
    for layer in spec["layers"]:
        if layer["type"] == "Dropout":
            layer["rate"] = rate
    return spec


def input_adapter(spec: dict, data_shape: Sequence[int] = MNIST_INPUT_SHAPE
                  ) -> Optional[tuple[str, dict]]:
    """The Keras layer (class name, kwargs) that feeds ``data_shape`` images to ``spec``, or None
    when the shapes already agree.

    A network made for smaller images (ConvNetJS' 24×24) gets ``CenterCrop``: the centre 24×24
    window of each 28×28 digit, in training and at inference alike. (Keras' ``RandomCrop`` was
    not used: at inference it *resizes* the whole 28×28 to 24×24, a different scale than it
    trained on. ConvNetJS' random-crop augmentation is therefore not reproduced.)
    Raises ValueError when the data cannot be fed (more pixels needed, or a different number of
    channels).
    """
    want = tuple(network.input_shape_of(spec))
    if not input_fit(want, data_shape):
        return None
    return "CenterCrop", {"height": want[0], "width": want[1]}


def check_trainable(name_or_spec: Union[str, dict], data: Union[DataInfo, Sequence[int]] = MNIST
                    ) -> dict:
    """The validated spec if it can be trained as a classifier of ``data`` (a DataInfo, or
    the pictures' (H, W, C) for 10 classes), else ValueError with a one-line reason (for
    custom networks from the Shape Lab). ``settings.check_spec`` does the checking."""
    if not isinstance(data, DataInfo):
        data = MNIST._replace(name="", input_shape=tuple(int(v) for v in data))
    return check_spec(_resolve(name_or_spec), data)


def build_model(name_or_spec: Union[str, dict], *, dropout: Optional[float] = None,
                data_shape: Optional[Sequence[int]] = None) -> keras.Model:
    """An *uncompiled* ``keras.Sequential`` for a preset name or a spec dict.

    Built from ``network.keras_layers`` so it is exactly the model ``network.keras_code``
    prints (same layers, same parameter count as ``network.total_params``).
    ``dropout`` overrides every Dropout rate (see ``with_dropout``). ``data_shape`` (e.g.
    ``(28, 28, 1)``) is the shape of the images it will be fed: when it differs from the spec's
    input, the model takes ``data_shape`` and starts with ``input_adapter``'s crop layer (no
    weights). Raises ValueError (quoting the layer) for a spec that does not fit.
    """
    spec = with_dropout(_resolve(name_or_spec), dropout)
    adapter = input_adapter(spec, data_shape) if data_shape is not None else None
    shape = tuple(data_shape) if adapter else tuple(spec["input_shape"])
    name = spec.get("name") if isinstance(spec.get("name"), str) else "cnn"
    model = keras.Sequential([keras.Input(shape=shape)],
                             name="".join(c if c.isalnum() else "_" for c in name) or "cnn")
    if adapter:
        model.add(getattr(keras.layers, adapter[0])(**adapter[1]))
    for group in network.keras_layers(spec):
        for cls, kwargs in group:
            model.add(getattr(keras.layers, cls)(**kwargs))
    return model


# ---------------------------------------------------------------------------- optimizers

def make_optimizer(name: str, learning_rate: Optional[float] = None,
                   momentum: float = 0.9) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer: "Adam", "SGD", "SGD+momentum", "RMSprop" or "Adadelta".

    ``learning_rate=None`` takes ``DEFAULT_LEARNING_RATES[name]``. The learning rate is a plain
    variable, so a running job may change it (``model.optimizer.learning_rate = x``, or through
    ``OneCycleSchedule.peak_learning_rate`` when that schedule drives it).
    Raises ValueError for an unknown name or a learning rate that is not a positive number.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    lr = DEFAULT_LEARNING_RATES[name] if learning_rate is None else learning_rate
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"learning_rate must be a positive number, got {lr!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning_rate must be a positive number, got {lr}")
    if name == "Adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "SGD":
        return keras.optimizers.SGD(learning_rate=lr)
    if name == "SGD+momentum":
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    if name == "RMSprop":
        return keras.optimizers.RMSprop(learning_rate=lr)
    return keras.optimizers.Adadelta(learning_rate=lr)


def compile_model(model: keras.Model, optimizer: Union[str, keras.optimizers.Optimizer] = "Adam",
                  learning_rate: Optional[float] = None, momentum: float = 0.9) -> keras.Model:
    """Compile in place (and return) with sparse categorical cross-entropy on the softmax
    outputs and the "accuracy" metric. ``optimizer`` is a name (see ``make_optimizer``) or an
    optimizer instance. Call it inside the same ``strategy.scope()`` as ``build_model``.

    XLA (``jit_compile``) is off: on this CPU it made training about 2× slower
    (bench/bench_time_to_accuracy.py notes).
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = make_optimizer(optimizer, learning_rate, momentum)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
                  metrics=["accuracy"], jit_compile=False)
    return model


# ---------------------------------------------------------------------------- distribution

def distribution_strategy(devices: Optional[Sequence[str]] = None):
    """The ``tf.distribute.Strategy`` to build and compile a model in.

    With ``devices=None``: ``MirroredStrategy`` over all GPUs when more than one is visible,
    else TensorFlow's default strategy (one device, no overhead). With ``devices`` (e.g.
    ``["/cpu:0", "/cpu:1"]`` after ``tf.config.set_logical_device_configuration``): a
    ``MirroredStrategy`` over them when there are two or more.
    """
    import tensorflow as tf

    if devices is None:
        gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy(gpus)
        return tf.distribute.get_strategy()
    devices = list(devices)
    if len(devices) > 1:
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.OneDeviceStrategy(devices[0]) if devices else tf.distribute.get_strategy()


def build_for_training(name_or_spec: Union[str, dict], settings: Optional[dict] = None, *,
                       data: Union[DataInfo, Sequence[int]] = MNIST, strategy=None
                       ) -> keras.Model:
    """Seeded build + compile inside ``strategy`` (default: ``distribution_strategy()``).

    ``settings`` as in ``settings.TRAINING_DEFAULTS`` (missing keys from
    ``settings.training_defaults``). Seeds
    Python, NumPy and TensorFlow with ``settings["seed"]`` first, so the same settings give the
    same initial weights. Raises ValueError for a network that cannot classify these digits.
    """
    settings = {**training_defaults(name_or_spec if isinstance(name_or_spec, str) else {}),
                **(settings or {})}
    spec = check_trainable(name_or_spec, data)
    data_shape = data.input_shape if isinstance(data, DataInfo) else tuple(data)
    keras.utils.set_random_seed(int(settings["seed"]))
    strategy = strategy or distribution_strategy()
    with strategy.scope():
        model = build_model(spec, dropout=settings.get("dropout"), data_shape=data_shape)
        compile_model(model, settings["optimizer"], settings["learning_rate"],
                      settings.get("momentum", 0.9))
    return model


# ---------------------------------------------------------------------------- schedules

class OneCycleSchedule(keras.callbacks.Callback):
    """Sets the optimizer's learning rate before every batch: a linear warm-up from
    ``peak/div_factor`` to ``peak_learning_rate`` over the first ``warmup_fraction`` of the
    steps, then a cosine decay to ``peak/final_div_factor`` at ``total_steps``.

    The step is the optimizer's own iteration counter, so a paused and resumed ``fit`` (with
    the same optimizer) continues where it was. To change the learning rate while training,
    either set ``peak_learning_rate`` or simply assign ``model.optimizer.learning_rate``: a
    rate found different from the one this callback last set is taken as the user's, and the
    curve is rescaled so that the rate now is that value (the shape is kept).
    """

    def __init__(self, peak_learning_rate: float, total_steps: int,
                 warmup_fraction: float = 0.2, div_factor: float = 10.0,
                 final_div_factor: float = 100.0):
        super().__init__()
        if total_steps < 1:
            raise ValueError(f"total_steps must be at least 1, got {total_steps}")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = max(1, int(round(warmup_fraction * total_steps)))
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self._last_set: Optional[tuple[int, float]] = None  # (step, learning rate) we set

    def factor(self, step: int) -> float:
        """Learning rate at ``step`` divided by the peak (pure Python, for tests and charts)."""
        start, end = 1.0 / self.div_factor, 1.0 / self.final_div_factor
        if step < self.warmup_steps:
            return start + (1.0 - start) * step / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def learning_rate(self, step: int) -> float:
        return self.peak_learning_rate * self.factor(step)

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        step = int(optimizer.iterations.numpy())
        if self._last_set is not None:
            now = float(optimizer.learning_rate.numpy())
            last_step, last_rate = self._last_set
            if not math.isclose(now, last_rate, rel_tol=1e-5):
                # Someone (the user, via the job's controls) set a new rate: keep it as "now".
                self.peak_learning_rate = now / self.factor(last_step)
        rate = self.learning_rate(step)
        optimizer.learning_rate.assign(rate)
        # Read back in the variable's precision (float32) so the comparison above is fair.
        self._last_set = (step, float(optimizer.learning_rate.numpy()))


def training_callbacks(settings: dict, steps_per_epoch: int) -> list[keras.callbacks.Callback]:
    """The callbacks the settings ask for (the learning-rate schedule); [] for "constant"."""
    schedule = settings.get("lr_schedule", "constant")
    if schedule == "constant":
        return []
    if schedule == "one-cycle":
        total = max(1, int(steps_per_epoch) * int(settings["epochs"]))
        return [OneCycleSchedule(settings["learning_rate"], total)]
    raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")
