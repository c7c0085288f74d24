"""Keras models from network specs: presets, optimizers, compile, the 24×24 input adapter, the
dropout override, the one-cycle schedule, saving in safe mode, and MirroredStrategy on two
logical CPUs (in a subprocess: TensorFlow's devices are fixed once it starts)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground.core import network
from playground.training import models
from playground.training import settings as training_settings

ROOT = Path(__file__).resolve().parent.parent
CLASSIFIERS = list(training_settings.TRAINING_DEFAULTS)


def _batch(n=32, shape=(28, 28, 1), seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, 10, n).astype(np.uint8)


# ------------------------------------------------------------------------------- presets

@pytest.mark.parametrize("name", list(network.PRESETS))
def test_every_preset_builds_with_the_tables_parameter_count(name):
    model = models.build_model(name)
    assert model.count_params() == network.total_params(network.preset(name))
    assert model.input_shape == (None, *network.PRESETS[name]["input_shape"])


def test_fast_preset_parameter_count_by_hand():
    # conv 3×3×1×16 + 16, conv 3×3×16×32 + 32, dense 5·5·32×256 + 256, dense 256×10 + 10
    expected = (9 * 16 + 16) + (9 * 16 * 32 + 32) + (800 * 256 + 256) + (256 * 10 + 10)
    assert expected == 212_426
    assert models.build_model("Fast MNIST CNN").count_params() == expected


def test_keras_sequential_preset_has_the_course_count():
    assert models.build_model("Keras Sequential CNN").count_params() == 619_786


def test_default_preset_is_a_trainable_preset_with_defaults():
    assert training_settings.DEFAULT_PRESET in network.PRESETS
    assert training_settings.DEFAULT_PRESET in training_settings.TRAINING_DEFAULTS
    assert training_settings.training_defaults() == \
        training_settings.TRAINING_DEFAULTS[training_settings.DEFAULT_PRESET]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_training_defaults_are_complete_and_valid(name):
    settings = training_settings.TRAINING_DEFAULTS[name]
    assert set(settings) >= {"optimizer", "learning_rate", "batch_size", "epochs",
                             "train_examples", "validation_split", "dropout", "seed",
                             "lr_schedule"}
    assert settings["optimizer"] in training_settings.OPTIMIZERS
    assert settings["lr_schedule"] in training_settings.LR_SCHEDULES
    home = training_settings.data_info(training_settings.home_dataset(name))
    models.check_trainable(training_settings.preset_for(name, home), home)


def test_training_defaults_for_a_custom_spec_are_a_fresh_generic_copy():
    settings = training_settings.training_defaults(
        network.preset("Course CNN (2 conv)") | {"name": "x"})
    settings["epochs"] = 99
    assert training_settings.training_defaults(
        {"input_shape": [28, 28, 1], "layers": []})["epochs"] != 99


# ------------------------------------------------------------------------------- optimizers

@pytest.mark.parametrize("name, cls, lr", [
    ("Adam", keras.optimizers.Adam, 0.002),
    ("SGD", keras.optimizers.SGD, 0.05),
    ("SGD+momentum", keras.optimizers.SGD, 0.05),
    ("RMSprop", keras.optimizers.RMSprop, 0.0005),
    ("Adadelta", keras.optimizers.Adadelta, 1.0),
])
def test_make_optimizer_each_name(name, cls, lr):
    optimizer = models.make_optimizer(name, lr)
    assert type(optimizer) is cls
    assert float(optimizer.learning_rate) == pytest.approx(lr)
    if cls is keras.optimizers.SGD:
        assert optimizer.momentum == (0.9 if name == "SGD+momentum" else 0.0)


def test_make_optimizer_default_rates_and_momentum():
    assert float(models.make_optimizer("Adadelta").learning_rate) == 1.0
    assert float(models.make_optimizer("Adam").learning_rate) == pytest.approx(1e-3)
    assert models.make_optimizer("SGD+momentum", 0.1, momentum=0.5).momentum == 0.5


@pytest.mark.parametrize("name, lr, message", [
    ("Adagrad", 0.1, "optimizer must be one of Adam, SGD, SGD\\+momentum, RMSprop, Adadelta"),
    ("Adam", 0.0, "learning_rate must be a positive number"),
    ("Adam", -1e-3, "learning_rate must be a positive number"),
    ("Adam", float("nan"), "learning_rate must be a positive number"),
    ("Adam", "fast", "learning_rate must be a positive number"),
])
def test_make_optimizer_rejects(name, lr, message):
    with pytest.raises(ValueError, match=message):
        models.make_optimizer(name, lr)


def test_compile_model_loss_and_accuracy_are_what_tf_computes():
    model = models.compile_model(models.build_model("Fast MNIST CNN"), "Adam")
    x, y = _batch()
    loss, accuracy = model.evaluate(x, y, batch_size=32, verbose=0)
    probs = model.predict(x, verbose=0)
    expected = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, probs))
    assert loss == pytest.approx(float(expected), rel=1e-5)
    assert accuracy == pytest.approx(float(np.mean(np.argmax(probs, 1) == y)))


@pytest.mark.parametrize("optimizer", training_settings.OPTIMIZERS)
def test_compile_model_each_optimizer_takes_a_step(optimizer):
    model = models.compile_model(models.build_model("Fast MNIST CNN"), optimizer)
    assert type(model.optimizer) is type(models.make_optimizer(optimizer))
    x, y = _batch()
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert math.isfinite(logs["loss"])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_compile_model_accepts_an_optimizer_instance():
    optimizer = keras.optimizers.SGD(0.3)
    model = models.compile_model(models.build_model("Course CNN (2 conv)"), optimizer)
    assert model.optimizer is optimizer


# ------------------------------------------------------------------------------- dropout

def _rates(model):
    return [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]


def test_dropout_none_keeps_the_specs_rates():
    assert _rates(models.build_model("Course deep CNN (3 conv)")) == [0.3, 0.3, 0.3, 0.5]


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.75])
def test_dropout_override_sets_every_dropout_layer(rate):
    model = models.build_model("Course deep CNN (3 conv)", dropout=rate)
    assert _rates(model) == [rate] * 4
    # The spec (and so the Shape Lab's table and keras_code) says the same.
    spec = models.with_dropout(network.preset("Course deep CNN (3 conv)"), rate)
    assert [layer["rate"] for layer in spec["layers"] if layer["type"] == "Dropout"] == \
        [rate] * 4


def test_dropout_override_leaves_networks_without_dropout_alone():
    model = models.build_model("Fast MNIST CNN", dropout=0.5)
    assert _rates(model) == []
    assert model.count_params() == 212_426


@pytest.mark.parametrize("rate", [1.0, -0.1, "half"])
def test_dropout_override_rejects(rate):
    with pytest.raises(ValueError, match="dropout must be"):
        models.build_model("Keras Sequential CNN", dropout=rate)


def test_with_dropout_does_not_touch_the_preset():
    models.with_dropout(network.PRESETS["Keras Sequential CNN"], 0.1)
    assert network.PRESETS["Keras Sequential CNN"]["layers"][-2]["rate"] == 0.4


# ------------------------------------------------------------------------------- input

def test_convnetjs_preset_on_28x28_gets_a_crop_and_trains_one_step():
    model = models.compile_model(models.build_model("ConvNetJS MNIST demo",
                                                    data_shape=(28, 28, 1)), "Adadelta", 1.0)
    assert model.input_shape == (None, 28, 28, 1)
    assert isinstance(model.layers[0], keras.layers.CenterCrop)
    assert model.layers[0].compute_output_shape((None, 28, 28, 1)) == (None, 24, 24, 1)
    assert model.count_params() == network.total_params(network.preset("ConvNetJS MNIST demo"))
    x, y = _batch(20)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert math.isfinite(logs["loss"])


def test_convnetjs_adapter_predicts_on_the_centre_24x24_window():
    adapted = models.build_model("ConvNetJS MNIST demo", data_shape=(28, 28, 1))
    plain = models.build_model("ConvNetJS MNIST demo")
    plain.set_weights(adapted.get_weights())
    x, _ = _batch(8)
    np.testing.assert_allclose(adapted.predict(x, verbose=0),
                               plain.predict(x[:, 2:26, 2:26], verbose=0), rtol=1e-5, atol=1e-6)


def test_no_adapter_when_shapes_agree():
    assert models.input_adapter(network.preset("Course CNN (2 conv)")) is None
    model = models.build_model("Course CNN (2 conv)", data_shape=(28, 28, 1))
    assert not isinstance(model.layers[0], keras.layers.CenterCrop)


@pytest.mark.parametrize("input_shape, message", [
    ([32, 32, 3], "channel"),
    ([32, 32, 1], "larger than the 28×28×1 digits"),
    ([28, 30, 1], "larger than"),
])
def test_input_adapter_rejects_data_it_cannot_feed(input_shape, message):
    spec = {"input_shape": input_shape, "layers": [{"type": "Flatten"},
                                                   {"type": "Dense", "units": 10,
                                                    "activation": "softmax"}]}
    with pytest.raises(ValueError, match=message):
        models.build_model(spec, data_shape=(28, 28, 1))


@pytest.mark.parametrize("layers, message", [
    ([{"type": "Flatten"}, {"type": "Dense", "units": 10}], "softmax"),
    ([{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
     "must end with 10 values"),
    ([{"type": "Conv2D", "filters": 10}], "must end with 10 values"),
])
def test_check_trainable_explains_what_is_missing(layers, message):
    with pytest.raises(ValueError, match=message):
        models.check_trainable({"input_shape": [28, 28, 1], "layers": layers})


def test_shape_example_preset_is_not_trainable_on_mnist():
    with pytest.raises(ValueError, match="channel"):
        models.check_trainable("32×32×3 image, six 5×5 filters")


# ------------------------------------------------------------------------------- build+save

def test_build_for_training_same_seed_same_weights(tmp_path):
    settings = {**training_settings.training_defaults("Course CNN (2 conv)"), "seed": 5}
    a = models.build_for_training("Course CNN (2 conv)", settings)
    b = models.build_for_training("Course CNN (2 conv)", settings)
    c = models.build_for_training("Course CNN (2 conv)", {**settings, "seed": 6})
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    assert type(a.optimizer) is keras.optimizers.Adam


def test_saved_model_reloads_in_safe_mode_with_same_outputs(tmp_path):
    model = models.build_for_training("ConvNetJS MNIST demo", {"epochs": 1})
    x, y = _batch(20)
    model.train_on_batch(x, y)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)
    assert type(loaded.optimizer) is keras.optimizers.Adadelta
    assert loaded.count_params() == model.count_params()


# ------------------------------------------------------------------------------- schedule

def test_one_cycle_factor_literals():
    schedule = models.OneCycleSchedule(0.01, total_steps=100, warmup_fraction=0.2)
    assert schedule.factor(0) == pytest.approx(0.1)
    assert schedule.factor(10) == pytest.approx(0.55)
    assert schedule.factor(20) == pytest.approx(1.0)
    assert schedule.factor(60) == pytest.approx(0.505)
    assert schedule.factor(100) == pytest.approx(0.01)
    assert schedule.learning_rate(20) == pytest.approx(0.01)
    rates = [schedule.factor(s) for s in range(101)]
    assert rates[:21] == sorted(rates[:21]) and rates[20:] == sorted(rates[20:], reverse=True)


def test_one_cycle_drives_the_optimizer_and_follows_a_rate_set_by_hand():
    model = models.compile_model(models.build_model("Fast MNIST CNN"), "Adam", 0.01)
    x, y = _batch(64)
    schedule = models.OneCycleSchedule(0.01, total_steps=8)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(self.model.optimizer.learning_rate.numpy()))
            if batch == 3:  # what the job's "change learning rate" control does
                self.model.optimizer.learning_rate = 0.002

    planned = [schedule.learning_rate(step) for step in range(8)]
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[schedule, Record()])
    assert len(seen) == 8
    assert seen[:4] == pytest.approx(planned[:4], rel=1e-5)
    # After the hand-set 0.002 at step 3 the curve is rescaled so step 3 would have been 0.002.
    assert schedule.peak_learning_rate == pytest.approx(0.002 / schedule.factor(3), rel=1e-5)
    assert seen[4] == pytest.approx(schedule.learning_rate(4), rel=1e-5)
    assert seen[7] == pytest.approx(0.002 / schedule.factor(3) * schedule.factor(7), rel=1e-5)


def test_training_callbacks():
    assert models.training_callbacks({"lr_schedule": "constant"}, 10) == []
    (schedule,) = models.training_callbacks({"lr_schedule": "one-cycle", "learning_rate": 0.1,
                                             "epochs": 3}, steps_per_epoch=10)
    assert schedule.total_steps == 30 and schedule.peak_learning_rate == 0.1
    with pytest.raises(ValueError, match="lr_schedule must be one of constant, one-cycle"):
        models.training_callbacks({"lr_schedule": "cosine"}, 10)


# ------------------------------------------------------------------------------- distribute

def test_distribution_strategy_on_this_cpu_is_the_default_strategy():
    strategy = models.distribution_strategy()
    assert not isinstance(strategy, tf.distribute.MirroredStrategy)
    assert strategy.num_replicas_in_sync == 1
    assert strategy is tf.distribute.get_strategy()


_MIRRORED = textwrap.dedent("""
    import json, math, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from playground.datasets import mnist
    from playground.training import models
    from playground.training import settings as training_settings
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = models.distribution_strategy(devices)
    settings = {**training_settings.training_defaults("Fast MNIST CNN"), "learning_rate": 3e-3,
                "lr_schedule": "constant", "seed": 0}
    model = models.build_for_training("Fast MNIST CNN", settings, strategy=strategy)
    part = mnist.mnist_slice(1024, 0.0, seed=0)
    history = model.fit(part.x_train, part.y_train, batch_size=64, epochs=3, verbose=0)
    _, accuracy = model.evaluate(part.x_train, part.y_train, batch_size=256, verbose=0)
    print(json.dumps({"strategy": type(strategy).__name__, "devices": devices,
                      "replicas": strategy.num_replicas_in_sync,
                      "variable_kind": type(model.trainable_variables[0].value).__name__,
                      "loss": history.history["loss"], "accuracy": accuracy}))
""")


@pytest.mark.slow
def test_mirrored_strategy_over_two_logical_cpus_trains():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", _MIRRORED], cwd=ROOT, capture_output=True,
                         text=True, timeout=500, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["strategy"] == "MirroredStrategy"
    assert result["replicas"] == 2 and len(result["devices"]) == 2
    losses = result["loss"]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    assert result["accuracy"] > 0.5  # chance is 0.1
