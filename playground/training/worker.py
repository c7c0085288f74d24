"""The training job's worker side: the streaming callback, snapshots, and saving a run.

Imports keras (and so TensorFlow). The server never needs this module: ``playground.training.jobs``
starts ``worker_main`` in a spawned process, and the page reads what the worker saved.

``StreamingCallback`` builds a ``Snapshot`` (``playground.training.snapshot``: numpy arrays and
Python numbers, picklable) at most every ``interval`` seconds and hands it to a *sink*
function, like keras' LambdaCallback: it knows nothing about queues or pages.
"""
from __future__ import annotations

import csv
import functools
import io
import math
import os
import time
from pathlib import Path
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from playground.core import network, runs
from playground.datasets.base import training_slice
from playground.training import data as run_data
from playground.training import history, models, texts
from playground.training.settings import MNIST, DataInfo
from playground.training.snapshot import (
    BATCH_FIELDS,
    EPOCH_FIELDS,
    STAT_FIELDS,
    Activation,
    EpochRow,
    LayerStat,
    Snapshot,
    batch_log,
)

Sink = Callable[[Snapshot], None]

# Layer kinds whose output is a picture of feature maps (probe activations are shown for these).
MAP_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Conv2DTranspose",
              "DepthwiseConv2D", "SeparableConv2D")


class StreamingCallback(keras.callbacks.Callback):
    """Builds throttled snapshots during ``fit`` and hands each to ``sink(snapshot)``.

    Args:
      sink: called with a ``Snapshot``, from the training thread; must not block.
      probe: float32 (H, W, 1) in [0, 1], the digit whose activations are shown.
      grad_batch: (x float32 (n, H, W, 1), y int (n,)) a small fixed batch on which the
        gradient statistics are computed every ``stats_every`` batches (cheap: one extra
        forward+backward of n samples, never on every step).
      interval: seconds between snapshots during an epoch (epoch ends always send one).
      stats_every, stats_seconds: gradient statistics every ``stats_every`` batches but not
        more often than every ``stats_seconds`` (and at every epoch end).
      epochs, steps: totals for progress and ETA.
    """

    def __init__(self, sink: Sink, probe: np.ndarray,
                 grad_batch: Optional[tuple[np.ndarray, np.ndarray]] = None,
                 interval: float = 0.5, stats_every: int = 25, epochs: int = 1,
                 steps: int = 1, batch_size: int = 32, stats_seconds: float = 2.0):
        super().__init__()
        self.sink = sink
        self.probe = np.asarray(probe, np.float32)[np.newaxis]
        self.grad_batch = grad_batch
        self.interval = float(interval)
        self.stats_every = max(1, int(stats_every))
        # ... and at most every stats_seconds: on a fast network 25 batches take < 0.5 s.
        self.stats_seconds = float(stats_seconds)
        self._last_stats = -math.inf
        self.epochs, self.steps, self.batch_size = int(epochs), int(steps), int(batch_size)
        self.batch_rows: list[tuple[int, int, float, float]] = []  # BATCH_FIELDS
        self.epoch_log: list[EpochRow] = []
        self.layer_stats: list[LayerStat] = []
        self.samples_seen = 0
        self.epoch = 0
        self.batch = -1
        self.phase = "train"
        self.paused_seconds = 0.0
        self._prev = (0, 0.0, 0.0)  # samples in epoch, running mean loss, running mean acc
        self._last_sent = 0.0
        self._start = None
        self._epoch_start = None
        self._probe_model = None
        self._stats_function = None
        self._rate_window: list[tuple[float, int]] = []

    # ---------------------------------------------------------------- keras hooks
    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        if self._probe_model is None:  # traced once per model (~1 s), reused by later fits
            self._probe_model = probe_function(network.probe_model(self.model, MAP_LAYERS))
            if self.grad_batch is not None:
                self.grad_batch = (tf.constant(self.grad_batch[0], tf.float32),
                                   tf.constant(np.asarray(self.grad_batch[1]), tf.int32))
            self._stats_function = stats_function(self.model)
        self._record_layer_stats(step=0)
        self.emit(force=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch, self.phase = epoch, -1, "train"
        self._prev = (0, 0.0, 0.0)
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.batch = batch
        n_before, loss_before, acc_before = self._prev
        n_now = min((batch + 1) * self.batch_size, self._epoch_samples())
        size = max(n_now - n_before, 1)
        loss_mean, acc_mean = float(logs.get("loss", math.nan)), \
            float(logs.get("accuracy", logs.get("acc", math.nan)))
        # Keras logs the running mean over the epoch (weighted by batch size); the loss and
        # accuracy of this batch alone follow exactly from two consecutive means.
        batch_loss = (loss_mean * n_now - loss_before * n_before) / size
        batch_acc = (acc_mean * n_now - acc_before * n_before) / size
        self._prev = (n_now, loss_mean, acc_mean)
        self.samples_seen += size
        step = len(self.batch_rows) + 1
        self.batch_rows.append((step, self.samples_seen, batch_loss, batch_acc))
        if step % self.stats_every == 0 and \
                time.perf_counter() - self._last_stats >= self.stats_seconds:
            self._record_layer_stats(step)
        self.emit()

    def on_test_begin(self, logs=None):
        self.phase = "validate"

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1, "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
               "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
               "learning_rate": current_learning_rate(self.model),
               "seconds": time.perf_counter() - (self._epoch_start or time.perf_counter())}
        self.epoch_log.append({k: (float(v) if v is not None else None)
                               for k, v in row.items()})
        self.phase = "train"
        self._record_layer_stats(len(self.batch_rows))
        self.emit(force=True)

    def on_train_end(self, logs=None):
        self.phase = "end"
        self.emit(force=True)

    # ---------------------------------------------------------------- snapshots
    def _epoch_samples(self) -> int:
        return self.steps * self.batch_size if self.n_train is None else self.n_train

    n_train: Optional[int] = None  # set by the worker so the last short batch counts right

    def emit(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_sent < self.interval:
            return
        self._last_sent = now
        self.sink(self.snapshot())

    def active_seconds(self) -> float:
        if self._start is None:
            return 1e-9
        return max(time.perf_counter() - self._start - self.paused_seconds, 1e-9)

    def samples_per_second(self) -> float:
        now = time.perf_counter() - self.paused_seconds
        self._rate_window.append((now, self.samples_seen))
        # A rate over the last ~5 s follows changes (validation, pause) better than the mean.
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 5.0:
            self._rate_window.pop(0)
        (t0, s0), (t1, s1) = self._rate_window[0], self._rate_window[-1]
        if t1 - t0 > 0.2 and s1 > s0:
            return (s1 - s0) / (t1 - t0)
        return self.samples_seen / self.active_seconds()

    def snapshot(self) -> Snapshot:
        """The run now (see ``Snapshot``)."""
        rate = self.samples_per_second()
        total = self.epochs * self._epoch_samples()
        remaining = max(total - self.samples_seen, 0)
        snap = Snapshot(
            t=time.time(), phase=self.phase, epoch=self.epoch, epochs=self.epochs,
            batch=self.batch, steps=self.steps, samples_seen=self.samples_seen,
            samples_total=total, samples_per_second=rate,
            eta_seconds=remaining / rate if rate > 0 else None,
            elapsed_seconds=self.active_seconds(), batch_log=batch_log(self.batch_rows),
            epoch_log=list(self.epoch_log), layer_stats=list(self.layer_stats),
            learning_rate=current_learning_rate(self.model),
            conv_kernels=conv_kernels(self.model), device=training_device())
        if self._probe_model is not None:
            snap.activations, snap.probabilities = probe_activations(self._probe_model,
                                                                     self.probe)
        return snap

    def _record_layer_stats(self, step: int) -> None:
        self._last_stats = time.perf_counter()
        self.layer_stats.extend(layer_statistics(self.model, self.grad_batch, step,
                                                 self._stats_function))


# -------------------------------------------------------------------- pure-ish helpers

@functools.cache
def training_device() -> str:
    """"GPU" when TensorFlow sees one in this process (it then trains there), else "CPU"."""
    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ×{len(gpus)}" if len(gpus) > 1 else "GPU" if gpus else "CPU"


def current_learning_rate(model) -> Optional[float]:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # no optimizer yet (uncompiled model in a unit test)
        return None


def set_learning_rate(model, value: float) -> str:
    """Set the optimizer's rate while fit runs. Returns "" or a one-line reason it could not."""
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        return texts.RATE_NOT_POSITIVE.format(value=value)
    optimizer = model.optimizer
    if isinstance(getattr(optimizer, "_learning_rate", None),
                  keras.optimizers.schedules.LearningRateSchedule):
        return texts.RATE_SCHEDULED
    optimizer.learning_rate = value
    return ""


def conv_kernels(model) -> dict[str, np.ndarray]:
    """{layer name: float32 (kh, kw, c_in, c_out)} for every Conv2D, in order."""
    return {layer.name: np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float32)
            for layer in model.layers if type(layer).__name__ == "Conv2D"}


def probe_activations(probe_net, probe: np.ndarray) -> tuple[list[Activation], np.ndarray]:
    """(activations per conv/pool layer, softmax float32 (10,)) for one digit (1, H, W, 1).

    ``probe_net`` is ``network.probe_model(model, MAP_LAYERS)`` or a compiled function of it
    (``probe_function``).
    """
    values = probe_net(probe)
    values = [np.asarray(keras.ops.convert_to_numpy(v)) for v in values]
    acts = []
    for layer, value in zip(_map_layers(probe_net), values[:-1]):
        maps = value[0].astype(np.float32)
        acts.append(Activation(name=layer.name, type=type(layer).__name__,
                               shape=tuple(int(d) for d in maps.shape),
                               min=float(maps.min()), max=float(maps.max()), values=maps))
    return acts, values[-1][0].astype(np.float32)


def probe_function(probe_net):
    """The probe model as one traced graph: ~20× cheaper per call than running it eagerly."""
    function = tf.function(lambda x: probe_net(x, training=False), reduce_retracing=True)
    function.model = probe_net
    return function


def _map_layers(probe_net):
    probe_net = getattr(probe_net, "model", probe_net)
    return [tensor._keras_history.operation for tensor in probe_net.outputs[:-1]]


STAT_KEYS = ("w_mean_abs", "w_min", "w_max", "g_mean_abs", "g_min", "g_max")


def kernel_layers(model) -> list:
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def stats_function(model):
    """A traced graph: (x, y) -> float32 (n_layers, 6) = mean |w|, min w, max w, mean |g|,
    min g, max g for every layer with a kernel, g = d mean cross-entropy / d kernel in
    inference mode (so dropout does not add noise between records)."""
    kernels = [layer.kernel for layer in kernel_layers(model)]

    @tf.function(reduce_retracing=True)
    def compute(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=False)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, pred))
        values = [k.value for k in kernels]
        grads = tape.gradient(loss, values)
        rows = []
        for w, g in zip(values, grads):
            rows.append(tf.stack([tf.reduce_mean(tf.abs(w)), tf.reduce_min(w), tf.reduce_max(w),
                                  tf.reduce_mean(tf.abs(g)), tf.reduce_min(g),
                                  tf.reduce_max(g)]))
        return tf.stack(rows)
    return compute


def layer_statistics(model, grad_batch, step: int, function=None) -> list[LayerStat]:
    """Per layer with a kernel: mean |w|, min, max of the kernel and of d loss / d kernel on
    ``grad_batch`` (see ``stats_function``). Without a batch, the weight statistics only."""
    layers = kernel_layers(model)
    if not layers:
        return []
    if grad_batch is None:
        rows = []
        for layer in layers:
            w = np.asarray(keras.ops.convert_to_numpy(layer.kernel))
            rows.append({"step": int(step), "layer": layer.name,
                         "w_mean_abs": float(np.abs(w).mean()), "w_min": float(w.min()),
                         "w_max": float(w.max())})
        return rows
    function = function or stats_function(model)
    table = function(*grad_batch).numpy()
    return [dict({"step": int(step), "layer": layer.name},
                 **{key: float(value) for key, value in zip(STAT_KEYS, row)})
            for layer, row in zip(layers, table)]


# -------------------------------------------------------------------- saving a run

def save_model_atomic(model, path: Path) -> None:
    """Save to a temp ``.keras`` in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def rows_to_csv(rows: list[dict], fields: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in fields})
    return out.getvalue()


def save_progress(folder: Path, callback: StreamingCallback) -> None:
    """history.csv, batches.csv, layer_stats.csv — each written atomically."""
    runs.atomic_write_text(folder / "history.csv", rows_to_csv(callback.epoch_log,
                                                                EPOCH_FIELDS))
    batch_rows = [dict(zip(BATCH_FIELDS, r)) for r in callback.batch_rows]
    runs.atomic_write_text(folder / "batches.csv", rows_to_csv(batch_rows, BATCH_FIELDS))
    runs.atomic_write_text(folder / "layer_stats.csv",
                           rows_to_csv(callback.layer_stats, STAT_FIELDS))


def save_evaluation(folder: Path, model, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Predict the test digits, save float32 probabilities (N, 10) to test_probabilities.npy.

    Returns the test accuracy (argmax == label), the number the page shows.
    """
    probs = np.asarray(model.predict(x_test, batch_size=500, verbose=0), np.float32)
    buffer = io.BytesIO()
    np.save(buffer, probs, allow_pickle=False)
    runs.atomic_write_bytes(folder / "test_probabilities.npy", buffer.getvalue())
    return float((probs.argmax(axis=1) == np.asarray(y_test)).mean())


def evaluate_run(run_id: str, test_examples: Optional[int] = None) -> float:
    """Evaluate a saved run on its test pictures (for runs saved without it, e.g. a died
    one)."""
    folder = runs.run_path(run_id)
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    dataset = run_data.run_dataset(run_id)
    x_test, y_test = run_data.float_test_pictures(dataset), dataset.y_test
    if test_examples:
        x_test, y_test = x_test[:test_examples], y_test[:test_examples]
    accuracy = save_evaluation(folder, model, x_test, y_test)
    status = runs.read_json(folder / "status.json") or {}
    status["test_accuracy"] = accuracy
    status["test_examples"] = int(len(y_test))
    runs.write_json(folder / "status.json", status)
    return accuracy


# -------------------------------------------------------------------- building the run

def build_compiled(settings: dict, data: DataInfo = MNIST):
    """Seeded build + compile inside the distribution strategy (models.build_for_training)."""
    spec = settings.get("spec") or settings["preset"]
    return models.build_for_training(spec, {k: settings[k] for k in (
        "optimizer", "learning_rate", "momentum", "dropout", "seed", "lr_schedule", "epochs",
        "batch_size") if k in settings}, data=data)


# -------------------------------------------------------------------- the worker process

class ControlCallback(keras.callbacks.Callback):
    """Answers Pause / Resume / Stop / learning-rate commands between batches.

    ``control`` is any object with ``paused()``, ``stopped()``, ``next_command()`` (returns
    ("lr", value) or None), ``set_state(name)``, ``viewer_gone()`` and ``reply(text)``.
    """

    def __init__(self, control, streaming: Optional[StreamingCallback] = None,
                 poll: float = 0.05):
        super().__init__()
        self.control, self.streaming, self.poll = control, streaming, poll
        self.stop_reason = ""
        self._started = False

    def _check(self, evaluating: bool = False) -> None:
        control = self.control
        while True:
            command = control.next_command()
            if command is None:
                break
            kind, value = command
            if kind == "lr":
                problem = set_learning_rate(self.model, value)
                control.reply(problem or texts.RATE_SET.format(rate=f"{float(value):g}"))
                if self.streaming is not None:
                    self.streaming.emit(force=True)
        gone = control.viewer_gone()
        if gone and not self.stop_reason:
            self.stop_reason = gone
        if control.paused() and not control.stopped() and not gone:
            control.set_state("paused")
            phase = None
            if self.streaming is not None:
                phase = self.streaming.phase
                self.streaming.phase = "paused"
                self.streaming.emit(force=True)
            began = time.perf_counter()
            while control.paused() and not control.stopped() and not control.viewer_gone():
                time.sleep(self.poll)
                while (command := control.next_command()) is not None:
                    if command[0] == "lr":
                        control.reply(set_learning_rate(self.model, command[1]) or
                                      texts.RATE_SET.format(rate=f"{float(command[1]):g}"))
            if self.streaming is not None:
                self.streaming.paused_seconds += time.perf_counter() - began
                self.streaming.phase = phase
                self.streaming.emit(force=True)
            if not control.stopped():
                control.set_state("running")
        if control.stopped() or self.stop_reason or control.viewer_gone():
            if not self.stop_reason:
                self.stop_reason = control.viewer_gone() or texts.STOPPED_BY_USER
            control.set_state("stopping")
            self.model.stop_training = True
            if evaluating:
                self.model.stop_evaluating = True

    def on_train_batch_end(self, batch, logs=None):
        if not self._started:  # "running" once the first batch (graph tracing) is done
            self._started = True
            self.control.set_state("running")
        self._check()

    # Also between the phases of an epoch end (validation, checkpoint), so a press there
    # does not wait for the next epoch's first batch.
    def on_test_begin(self, logs=None):
        self._check(evaluating=True)

    def on_test_batch_end(self, batch, logs=None):
        self._check(evaluating=True)

    def on_epoch_end(self, epoch, logs=None):
        self._check()


class _EpochSaver(keras.callbacks.Callback):
    """A checkpoint at every epoch end: a worker killed later still leaves a usable run."""

    def __init__(self, folder: Path, streaming: StreamingCallback):
        super().__init__()
        self.folder, self.streaming = folder, streaming

    def on_epoch_end(self, epoch, logs=None):
        save_progress(self.folder, self.streaming)
        save_model_atomic(self.model, self.folder / "model.keras")
        write_status(self.folder, "running", epochs_done=epoch + 1)


def _test_digits(arrays, settings: dict) -> tuple[np.ndarray, np.ndarray]:
    """The test digits evaluated at the end: the first ``test_examples`` (all when None)."""
    n = settings.get("test_examples") or len(arrays.y_test)
    return arrays.x_test[:n], arrays.y_test[:n]


def _build(folder: Path, settings: dict, data: DataInfo = MNIST):
    """The compiled model, its layer summary saved to summary.json."""
    model = build_compiled(settings, data)
    if not hasattr(model.optimizer, "learning_rate"):
        raise ValueError("optimizer has no learning rate")
    runs.write_json(folder / "summary.json", {"layers": network.model_summary(model),
                                              "total_params": int(model.count_params())})
    return model


def _streaming(arrays, settings: dict, sink: Sink) -> StreamingCallback:
    """The live view's callback: the probe digit, and a fixed batch for gradient statistics."""
    n_train, batch_size = len(arrays.y_train), int(settings["batch_size"])
    grad_n = min(64, n_train)
    streaming = StreamingCallback(
        sink, arrays.x_test[int(settings["probe_index"])],
        (arrays.x_train[:grad_n], arrays.y_train[:grad_n].astype(np.int32)),
        interval=settings.get("snapshot_interval", 0.5),
        stats_every=settings.get("stats_every", 25), epochs=settings["epochs"],
        steps=math.ceil(n_train / batch_size), batch_size=batch_size)
    streaming.n_train = n_train
    return streaming


def _trace_validation(model, arrays, batch_size: int) -> None:
    """Trace the validation graph now, not in the middle of the first epoch end, where it
    would hold a Pause press for seconds (and its last, shorter batch too)."""
    if arrays.validation_data is None:
        return
    n_val = len(arrays.y_val)
    model.evaluate(arrays.x_val[:batch_size], arrays.y_val[:batch_size],
                   batch_size=batch_size, verbose=0)
    if n_val > batch_size and n_val % batch_size:
        model.evaluate(arrays.x_val[:n_val % batch_size], arrays.y_val[:n_val % batch_size],
                       batch_size=batch_size, verbose=0)


def _finish(folder: Path, model, streaming: StreamingCallback, controls: ControlCallback,
            control, sink: Sink, test: tuple[np.ndarray, np.ndarray]) -> dict:
    """Save the model and logs, test it (unless the server is shutting down): the status."""
    control.set_state("saving")
    save_progress(folder, streaming)
    save_model_atomic(model, folder / "model.keras")
    extra = {}
    if not getattr(control, "terminate", ""):
        # A server shutting down waits for this process: keep that short, the page can
        # evaluate a saved run later.
        control.set_state("testing")
        streaming.phase = "testing"
        sink(Snapshot(t=time.time(), phase="testing"))
        extra = {"test_accuracy": save_evaluation(folder, model, *test),
                 "test_examples": int(len(test[1]))}
    return write_status(folder, "stopped" if controls.stop_reason else "finished",
                        reason=controls.stop_reason, epochs_done=len(streaming.epoch_log),
                        **extra)


def train_run(run_id: str, settings: dict, sink: Sink, control) -> dict:
    """Train one run in this process, saving it under ``runs/<run_id>/``. Returns its status.

    ``settings`` must be normalized (``playground.training.settings.normalize_settings``);
    ``control`` is as ``ControlCallback`` describes.
    """
    folder = runs.run_path(run_id)
    keras.utils.set_random_seed(int(settings["seed"]))
    control.set_state("loading")
    dataset = run_data.run_dataset(run_id)
    arrays = training_slice(dataset, settings["train_examples"], settings["validation_split"],
                            settings["seed"], test_float=run_data.float_test_pictures(dataset))
    model = _build(folder, settings, run_data.dataset_info(dataset))
    # Every snapshot passes the replay recorder, which keeps a bounded history of them.
    streaming = _streaming(arrays, settings, history.Recorder(folder, sink))
    controls = ControlCallback(control, streaming)
    if control.stopped():
        return write_status(folder, "stopped", reason=texts.STOPPED_BEFORE_START)
    batch_size = int(settings["batch_size"])
    _trace_validation(model, arrays, batch_size)
    write_status(folder, "running", device=training_device())
    # The schedule runs before ours, so the rate we report is the one this batch used.
    schedule = models.training_callbacks(settings, streaming.steps)
    model.fit(arrays.x_train, arrays.y_train, batch_size=batch_size,
              epochs=int(settings["epochs"]), validation_data=arrays.validation_data,
              shuffle=True, verbose=0,
              callbacks=schedule + [streaming, _EpochSaver(folder, streaming), controls])
    return _finish(folder, model, streaming, controls, control, sink,
                   _test_digits(arrays, settings))


def write_status(folder: Path, status: str, **extra) -> dict:
    """The run's status.json, stamped with this worker's process id and host."""
    return runs.update_status(folder, status, **extra, pid=os.getpid(), host=os.uname().nodename)


def worker_main(run_id: str, settings: dict, channels) -> None:
    """Entry point of the spawned worker process (see ``playground.training.jobs.Job``)."""
    folder = runs.run_path(run_id)
    control = channels.worker_side()
    try:
        status = train_run(run_id, settings, channels.put_snapshot, control)
    except Exception as err:  # reported on the page as one line; the traceback goes to a log
        import traceback
        runs.atomic_write_text(folder / "error.log", traceback.format_exc())
        status = write_status(folder, "failed", reason=texts.failure(err))
    control.set_state("done")
    channels.put_snapshot(Snapshot(t=time.time(), phase="done", status=status))
    channels.flush(timeout=3.0)
