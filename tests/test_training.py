"""The streaming callback and snapshots, checked against TensorFlow on a tiny MNIST slice
(in-process, a small network), plus settings, results and chart helpers."""
from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from playground.charts import training as charts  # noqa: E402
from playground.core import network, runs  # noqa: E402
from playground.datasets import mnist  # noqa: E402
from playground.training import models, results, worker  # noqa: E402
from playground.training import settings as training_settings  # noqa: E402
from tests.helpers import TINY  # noqa: E402


def compiled_tiny(seed=0, learning_rate=0.01):
    keras.utils.set_random_seed(seed)
    model = models.build_model(TINY)
    compile_model = getattr(models, "compile_model", None)
    if compile_model is not None:
        compile_model(model, optimizer="Adam", learning_rate=learning_rate)
    else:
        model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def tiny_slice():
    return mnist.mnist_slice(200, 0.2, seed=3)


def fit_with_callback(arrays, interval=0.0, epochs=2, batch_size=32, stats_every=2):
    model = compiled_tiny()
    initial = [w.copy() for w in model.get_weights()]
    snapshots = []
    n = len(arrays.y_train)
    callback = worker.StreamingCallback(
        snapshots.append, arrays.x_test[0], (arrays.x_train[:16], arrays.y_train[:16]),
        interval=interval, stats_every=stats_every, epochs=epochs,
        steps=math.ceil(n / batch_size), batch_size=batch_size, stats_seconds=0.0)
    callback.n_train = n
    history = model.fit(arrays.x_train, arrays.y_train, batch_size=batch_size, epochs=epochs,
                        shuffle=False, validation_data=arrays.validation_data, verbose=0,
                        callbacks=[callback])
    return model, initial, snapshots, history, callback


@pytest.fixture(scope="module")
def fitted(tiny_slice):
    return fit_with_callback(tiny_slice)


def test_first_batch_loss_and_accuracy_equal_tensorflow_on_initial_weights(tiny_slice, fitted):
    model, initial, snapshots, _, _ = fitted
    fresh = models.build_model(TINY)
    fresh.set_weights(initial)
    x, y = tiny_slice.x_train[:32], tiny_slice.y_train[:32]
    probs = fresh(x, training=False)
    loss = float(tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probs)))
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y))
    batch_log = snapshots[-1].batch_log
    assert batch_log["loss"][0] == pytest.approx(loss, rel=1e-5)
    assert batch_log["accuracy"][0] == pytest.approx(accuracy, abs=1e-6)


def test_per_batch_losses_average_to_the_epoch_loss_keras_reports(tiny_slice, fitted):
    _, _, snapshots, history, _ = fitted
    batch_log = snapshots[-1].batch_log
    seen = batch_log["samples_seen"]
    n = len(tiny_slice.y_train)                      # 160 digits, batches 32 × 5
    sizes = np.diff(np.concatenate([[0], seen]))
    assert seen[-1] == 2 * n
    for epoch in range(2):
        rows = (seen > epoch * n) & (seen <= (epoch + 1) * n)
        mean_loss = np.sum(batch_log["loss"][rows] * sizes[rows]) / n
        mean_acc = np.sum(batch_log["accuracy"][rows] * sizes[rows]) / n
        assert mean_loss == pytest.approx(history.history["loss"][epoch], rel=1e-4)
        assert mean_acc == pytest.approx(history.history["accuracy"][epoch], abs=1e-5)
        assert snapshots[-1].epoch_log[epoch]["val_loss"] == pytest.approx(
            history.history["val_loss"][epoch], rel=1e-6)


def test_last_snapshot_kernels_activations_and_probabilities_are_the_models(tiny_slice,
                                                                            fitted):
    model, _, snapshots, _, _ = fitted
    last = snapshots[-1]
    assert last.phase == "end"
    conv_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert list(last.conv_kernels) == [layer.name for layer in conv_layers]
    for layer in conv_layers:
        np.testing.assert_array_equal(last.conv_kernels[layer.name],
                                      layer.get_weights()[0])
    probe = tiny_slice.x_test[:1]
    expected, x = [], probe
    for layer in model.layers:
        x = layer(x)
        if type(layer).__name__ in worker.MAP_LAYERS:
            expected.append((layer.name, np.asarray(x)[0]))
    shapes = [row.output_shape for row in network.layer_rows(TINY)
              if row.type in ("Conv2D", "MaxPool2D", "AveragePool2D")]
    assert [a["name"] for a in last.activations] == [name for name, _ in expected]
    for act, (_, values), shape in zip(last.activations, expected, shapes):
        assert act["shape"] == shape
        np.testing.assert_allclose(act["values"], values, rtol=1e-5, atol=1e-6)
        assert act["min"] == pytest.approx(float(values.min()), abs=1e-6)
        assert act["max"] == pytest.approx(float(values.max()), rel=1e-5)
    np.testing.assert_allclose(last.probabilities, np.asarray(model(probe))[0],
                               rtol=1e-5, atol=1e-7)
    assert last.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_gradient_stats_equal_a_gradient_tape_on_the_same_batch(tiny_slice, fitted):
    model, _, snapshots, _, callback = fitted
    x, y = tiny_slice.x_train[:16], tiny_slice.y_train[:16]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
            y, model(x, training=False)))
    layers = [layer for layer in model.layers if hasattr(layer, "kernel")]
    grads = tape.gradient(loss, [layer.kernel.value for layer in layers])
    final_step = len(callback.batch_rows)
    last = {r["layer"]: r for r in snapshots[-1].layer_stats if r["step"] == final_step}
    assert set(last) == {layer.name for layer in layers}
    for layer, grad in zip(layers, grads):
        w, g = layer.kernel.numpy(), grad.numpy()
        row = last[layer.name]
        assert row["w_mean_abs"] == pytest.approx(float(np.abs(w).mean()), rel=1e-6)
        assert (row["w_min"], row["w_max"]) == (float(w.min()), float(w.max()))
        assert row["g_mean_abs"] == pytest.approx(float(np.abs(g).mean()), rel=1e-4)
        assert row["g_max"] == pytest.approx(float(g.max()), rel=1e-4, abs=1e-9)
    # Gradients every 2 batches (stats_every=2) plus each epoch end and the start: not every step.
    steps = sorted({r["step"] for r in snapshots[-1].layer_stats})
    assert steps == [0, 2, 4, 5, 6, 8, 10]


def test_snapshots_are_throttled_to_the_interval(tiny_slice):
    *_, snapshots, _, _ = fit_with_callback(tiny_slice, interval=1000.0)
    # one at the start, one per epoch end, one at the end: batch ends are throttled away
    assert [s.phase for s in snapshots] == ["train", "train", "train", "end"]
    *_, every, _, _ = fit_with_callback(tiny_slice, interval=0.0)
    assert len(every) == 1 + 10 + 2 + 1


def test_set_learning_rate_changes_the_optimizer_and_rejects_bad_values():
    model = compiled_tiny(learning_rate=0.01)
    assert worker.current_learning_rate(model) == pytest.approx(0.01)
    assert worker.set_learning_rate(model, 0.25) == ""
    assert worker.current_learning_rate(model) == pytest.approx(0.25)
    assert "positive" in worker.set_learning_rate(model, -1)
    assert "positive" in worker.set_learning_rate(model, float("nan"))


class FakeControl:
    """In-process stand-in for the worker's channels (worker.train_run's ``control``)."""

    def __init__(self, stop_after=None):
        self.states, self.replies, self.batches, self.stop_after = [], [], 0, stop_after

    def paused(self):
        return False

    def stopped(self):
        self.batches += 1
        return self.stop_after is not None and self.batches > self.stop_after

    def next_command(self):
        return None

    def set_state(self, name):
        self.states.append(name)

    def viewer_gone(self):
        return ""

    def reply(self, text):
        self.replies.append(text)


def settings_for_tiny(**extra):
    raw = dict(preset=training_settings.CUSTOM, spec=TINY, train_examples=120, epochs=2,
               batch_size=20,
               validation_split=0.25, seed=7, test_examples=200, snapshot_interval=0.05,
               learning_rate=0.01)
    raw.update(extra)
    return training_settings.normalize_settings(raw)


def test_same_seed_gives_the_same_run(tmp_path):
    logs = []
    for _ in range(2):
        run_id = runs.new_run_id()
        runs.run_path(run_id).mkdir(parents=True)
        status = worker.train_run(run_id, settings_for_tiny(), lambda s: None, FakeControl())
        assert status["status"] == "finished"
        logs.append(results.saved_run(run_id)["batch_log"])
    first, second = logs
    assert len(first) == 2 * math.ceil(90 / 20)
    np.testing.assert_allclose([r["loss"] for r in first], [r["loss"] for r in second],
                               rtol=1e-5)


def test_train_run_in_process_saves_a_run_that_reopens_in_safe_mode():
    run_id = runs.new_run_id()
    runs.run_path(run_id).mkdir(parents=True)
    control = FakeControl(stop_after=3)
    status = worker.train_run(run_id, settings_for_tiny(), lambda s: None, control)
    assert status["status"] == "stopped" and status["reason"] == "stopped by the user"
    assert control.states[-2:] == ["saving", "testing"]
    folder = runs.run_path(run_id)
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    x_test, _ = mnist.float_test_set()
    saved = results.run_test_probabilities(run_id)
    assert saved.shape == (200, 10)
    np.testing.assert_allclose(saved[:50], model.predict(x_test[:50], verbose=0), atol=1e-5)
    result = results.evaluation(run_id)
    assert result["accuracy"] == pytest.approx(status["test_accuracy"])
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("change, message", [
    ({"optimizer": "Adagrad"}, "optimizer must be one of"),
    ({"learning_rate": -0.1}, "learning_rate must be in"),
    ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"epochs": 0}, "epochs must be in"),
    ({"train_examples": 70_000}, "train_examples must be in"),
    ({"validation_split": 0.9}, "validation_split must be in"),
    ({"probe_index": 10_000}, "probe_index must be in"),
    ({"preset": "LeNet-9000"}, "preset must be one of"),
    ({"preset": training_settings.CUSTOM, "spec": "{not json"}, "spec is not valid JSON"),
    ({"preset": training_settings.CUSTOM, "spec": {"input_shape": [32, 32, 3], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]}},
     "expects 32×32×3 images but the data has 1 channel"),
    ({"preset": training_settings.CUSTOM, "spec": {"input_shape": [28, 28, 1], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 7, "activation": "softmax"}]}},
     "must end with 10 values"),
    ({"preset": training_settings.CUSTOM, "spec": {"input_shape": [28, 28, 1], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 10}]}}, "softmax"),
])
def test_bad_settings_get_a_one_line_message(change, message):
    raw = {"preset": "Course CNN (2 conv)", **change}
    with pytest.raises(ValueError, match=message):
        training_settings.normalize_settings(raw)


def test_settings_accept_the_shape_labs_json_and_apply_dropout():
    settings = training_settings.normalize_settings({
        "preset": training_settings.CUSTOM, "spec": network.to_json(
            network.preset("Course deep CNN (3 conv)")), "dropout": 0.2})
    model = worker.build_compiled(settings)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] \
        == [0.2] * 4


def test_results_from_saved_probabilities(tmp_path):
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    _, labels = results.run_test_pictures(run_id)
    predictions = labels[:100].astype(np.int64).copy()
    predictions[:10] = (predictions[:10] + 1) % 10           # 10 mistakes out of 100
    probs = np.full((100, 10), 0.02, np.float32)
    probs[np.arange(100), predictions] = 0.82
    np.save(folder / "test_probabilities.npy", probs)
    result = results.evaluation(run_id)
    assert result["accuracy"] == pytest.approx(0.9)
    assert result["matrix"].sum() == 100 and np.trace(result["matrix"]) == 90
    wrong = results.digits_where(result, wrong_only=True)
    assert wrong["count"] == 10 and sorted(wrong["indices"]) == list(range(10))
    assert wrong["captions"][0] == f"{labels[wrong['indices'][0]]}→" \
                                   f"{predictions[wrong['indices'][0]]} (82%)"
    assert results.top_k(probs[0], 3)[0] == (int(predictions[0]), pytest.approx(0.82))
    # An ensemble of this run and a perfect one: the average's argmax is the perfect one's.
    other = runs.new_run_id()
    runs.run_path(other).mkdir(parents=True)
    perfect = np.zeros((100, 10), np.float32)
    perfect[np.arange(100), labels[:100]] = 1.0
    np.save(runs.run_path(other) / "test_probabilities.npy", perfect)
    outcome = results.ensemble([run_id, other, "20990101-000000-abcdef"])
    assert [m["accuracy"] for m in outcome["members"]] == [pytest.approx(0.9), 1.0]
    assert outcome["accuracy"] == 1.0 and outcome["n"] == 100
    assert outcome["skipped"] == ["20990101-000000-abcdef"]


def test_smooth_is_tensorboards_debiased_ema():
    np.testing.assert_allclose(charts.smooth([1.0, 0.0], 0.5), [1.0, 1 / 3])
    np.testing.assert_allclose(charts.smooth([2.0, 2.0, 2.0], 0.9), [2.0, 2.0, 2.0])


def test_filters_figure_tiles_are_the_kernel_slices():
    kernel = np.arange(3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4)
    z = np.asarray(charts.filters_figure(kernel, channel=1).data[0].z, dtype=np.float32)
    np.testing.assert_array_equal(z[0:3, 0:3], kernel[:, :, 1, 0])
    np.testing.assert_array_equal(z[0:3, 4:7], kernel[:, :, 1, 1])
    np.testing.assert_array_equal(z[4:7, 0:3], kernel[:, :, 1, 2])
    with pytest.raises(ValueError, match="channel must be in 0..1"):
        charts.filters_figure(kernel, channel=2)


def test_confusion_figure_cells_carry_true_and_predicted_digits():
    matrix = np.zeros((10, 10), np.int64)
    matrix[7, 2] = 5
    fig = charts.confusion_figure(matrix)
    points = np.asarray(fig.data[1].customdata)
    assert [7, 2, 5] in points.tolist()
    assert fig.data[1].x[7 * 10 + 2] == 2 and fig.data[1].y[7 * 10 + 2] == 7


def test_settings_in_the_url_apply_to_a_custom_network_too():
    defaults = training_settings.default_settings(training_settings.CUSTOM)
    settings, problems = training_settings.settings_from_query(
        {"train_examples": "400", "epochs": "30", "batch_size": "10", "seed": "-1"}, defaults)
    assert (settings["train_examples"], settings["epochs"], settings["batch_size"]) == \
        (400, 30, 10)
    assert settings["seed"] == 0 and problems == ["seed must be in 0..2147483647, got '-1'"]


def test_a_colour_run_trains_tests_and_reads_back_with_its_class_names():
    """The generated colour shapes end to end in this process: the settings made for the data
    (4 classes: the preset's head follows), the run's dataset.json, training, the saved test
    probabilities equal to Keras' predictions, and the results named by class."""
    from playground.datasets import load_dataset
    from playground.training import data as run_data
    shapes = load_dataset("shapes")
    settings = training_settings.normalize_settings(dict(
        preset="Fast colour CNN", dataset="shapes", train_examples=200, epochs=1,
        batch_size=50, test_examples=120, snapshot_interval=0.05))
    assert settings["dataset"] == "shapes"
    assert settings["spec"]["layers"][-1]["units"] == 4 == len(shapes.class_names)
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    info = run_data.write_run_data(folder, settings)
    assert runs.read_json(folder / "dataset.json")["class_names"] == list(shapes.class_names)
    snapshots = []
    status = worker.train_run(run_id, settings, snapshots.append, FakeControl())
    assert status["status"] == "finished"
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 4)
    saved = results.run_test_probabilities(run_id)
    assert saved.shape == (120, 4)
    x = shapes.x_test[:30].astype(np.float32) / 255.0
    np.testing.assert_allclose(saved[:30], model.predict(x, verbose=0), atol=1e-5)
    result = results.evaluation(run_id)
    assert result["class_names"] == info.class_names
    assert result["matrix"].shape == (4, 4) and result["matrix"].sum() == 120
    assert result["accuracy"] == pytest.approx(status["test_accuracy"])
    picked = results.digits_where(result, limit=5)
    assert picked["images"].shape == (5, 32, 32, 3)
    first = picked["indices"][0]
    assert picked["captions"][0].startswith(
        f"{shapes.class_names[shapes.y_test[first]]}→"
        f"{shapes.class_names[int(saved[first].argmax())]} (")
    image, label = results.run_test_picture(run_id, 7)
    np.testing.assert_array_equal(image, shapes.x_test[7] / np.float32(255.0))
    assert label == shapes.y_test[7]
    assert any(s.probabilities is not None and s.probabilities.shape == (4,) for s in snapshots)
    # An MNIST run's outputs are not averaged with this one.
    other = runs.new_run_id()
    runs.run_path(other).mkdir(parents=True)
    np.save(runs.run_path(other) / "test_probabilities.npy", np.full((120, 10), 0.1, np.float32))
    outcome = results.ensemble([run_id, other])
    assert [m["run_id"] for m in outcome["members"]] == [run_id]
    assert outcome["skipped"] == [other]
