"""Wall time to 99.0 % test accuracy with the default preset and its default settings.

Trains ``settings.DEFAULT_PRESET`` with ``settings.TRAINING_DEFAULTS`` on the full 60,000 MNIST
training digits, the way a training job does (``mnist.mnist_slice``, ``models.build_for_training``,
``models.training_callbacks``, ``model.fit`` on the arrays) with the live view's
``worker.StreamingCallback`` attached ("streaming on"). The accuracy on all 10,000 test digits
is measured at every epoch end (``--evals-per-epoch`` for more often); the clock stops at the
first measurement >= the target.

Figures printed:
  wall to target     from "Start" (before the model is built) to the measurement that reached
                     the target, including those measurements and the streaming callback;
  train-only         the same minus the time spent measuring test accuracy;
  plus the TensorFlow import, the MNIST load (first and cached), and the load average, since
  the 2-core machine is shared and timings depend on it.

Usage:
  python bench/bench_time_to_accuracy.py                 # the default preset
  python bench/bench_time_to_accuracy.py --compare       # + the course's 2-conv recipe, 1 epoch
  python bench/bench_time_to_accuracy.py --seed 1 --evals-per-epoch 4
"""
from __future__ import annotations

import argparse
import math
import os
import queue
import sys
import time
from pathlib import Path

T_PROCESS = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def run(preset: str, settings: dict, target: float, evals_per_epoch: int, streaming: bool,
        stop_at_target: bool) -> dict:
    import keras
    import numpy as np

    from playground.datasets import mnist
    from playground.training import models

    t_start = time.perf_counter()
    part = mnist.mnist_slice(settings["train_examples"], settings["validation_split"],
                            settings["seed"])
    model = models.build_for_training(preset, settings)
    batch_size = int(settings["batch_size"])
    steps = math.ceil(len(part.y_train) / batch_size)
    callbacks = models.training_callbacks(settings, steps)
    note = "streaming on (worker.StreamingCallback, snapshots into a bounded queue)"
    if streaming:
        try:
            from playground.training import worker
        except ImportError as err:
            note = f"streaming OFF: playground.training.worker not importable ({err})"
        else:
            snapshots: queue.Queue = queue.Queue(maxsize=8)

            def sink(snapshot):
                try:
                    snapshots.put_nowait(snapshot)
                except queue.Full:  # the page reads the latest; old snapshots are dropped
                    try:
                        snapshots.get_nowait()
                    except queue.Empty:
                        pass

            grad_n = min(64, len(part.y_train))
            callbacks.append(worker.StreamingCallback(
                sink, part.x_test[0], (part.x_train[:grad_n],
                                       part.y_train[:grad_n].astype(np.int32)),
                interval=0.5, stats_every=25, epochs=int(settings["epochs"]), steps=steps,
                batch_size=batch_size))
    else:
        note = "streaming off"

    every = max(1, steps // max(1, evals_per_epoch))
    marks: list[dict] = []

    class TestAccuracy(keras.callbacks.Callback):
        eval_seconds = 0.0

        def _measure(self, epoch, batch):
            began = time.perf_counter()
            probs = self.model.predict(part.x_test, batch_size=1000, verbose=0)
            accuracy = float(np.mean(np.argmax(probs, axis=1) == part.y_test))
            now = time.perf_counter()
            self.eval_seconds += now - began
            marks.append({"epoch": epoch + (batch + 1) / steps, "accuracy": accuracy,
                          "wall": now - t_start, "train": now - t_start - self.eval_seconds})
            print(f"  epoch {epoch + (batch + 1) / steps:5.2f}  test accuracy "
                  f"{accuracy * 100:6.2f} %  wall {now - t_start:6.1f} s  "
                  f"train-only {now - t_start - self.eval_seconds:6.1f} s", flush=True)
            if stop_at_target and accuracy >= target:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % every == 0 and batch + 1 != steps:
                self._measure(self.epoch, batch)

        def on_epoch_end(self, epoch, logs=None):
            if not (stop_at_target and self.model.stop_training):
                self._measure(epoch, steps - 1)

    print(f"{preset}: {model.count_params():,} parameters; {note}")
    print("  settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    print(f"  {load()} (at start)")
    model.fit(part.x_train, part.y_train, batch_size=batch_size, epochs=int(settings["epochs"]),
              validation_data=part.validation_data, shuffle=True, verbose=0,
              callbacks=callbacks + [TestAccuracy()])
    reached = next((m for m in marks if m["accuracy"] >= target), None)
    print(f"  {load()} (at end)")
    return {"preset": preset, "reached": reached, "final": marks[-1] if marks else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default=None,
                        help="default: playground.training.settings.DEFAULT_PRESET")
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=None, help="override the settings' seed")
    parser.add_argument("--evals-per-epoch", type=int, default=1)
    parser.add_argument("--no-streaming", action="store_true")
    parser.add_argument("--full", action="store_true",
                        help="train all epochs instead of stopping at the target")
    parser.add_argument("--compare", action="store_true",
                        help="also train the course's 2-conv recipe (Adam 1e-3, batch 100)")
    parser.add_argument("--compare-epochs", type=int, default=1,
                        help="epochs of the course recipe (its own default is 15, ~10 min)")
    args = parser.parse_args()

    print(f"bench_time_to_accuracy: {load()}")
    began = time.perf_counter()
    import tensorflow as tf  # noqa: F401  (timed on its own: a job's process pays it once)

    from playground.datasets import mnist
    from playground.training import models  # noqa: F401  (keras: part of the timed import)
    from playground.training import settings as training_settings
    print(f"import tensorflow + keras: {time.perf_counter() - began:.1f} s "
          f"(process start to here {time.perf_counter() - T_PROCESS:.1f} s)")
    began = time.perf_counter()
    mnist.load_mnist(use_memory=False)
    first = time.perf_counter() - began
    source = mnist.mnist_source()
    began = time.perf_counter()
    mnist.load_mnist(use_memory=False)
    print(f"load_mnist: {first:.2f} s from {source}; again {time.perf_counter() - began:.2f} s "
          f"from {mnist.mnist_source()} (bar: < 1 s)")

    preset = args.preset or training_settings.DEFAULT_PRESET
    settings = training_settings.training_defaults(preset)
    if args.seed is not None:
        settings["seed"] = args.seed
    results = [run(preset, settings, args.target, args.evals_per_epoch,
                   not args.no_streaming, not args.full)]
    if args.compare:
        course = "Course CNN (2 conv)"
        course_settings = {**training_settings.training_defaults(course),
                           "epochs": args.compare_epochs}
        if args.seed is not None:
            course_settings["seed"] = args.seed
        results.append(run(course, course_settings, args.target, args.evals_per_epoch,
                           not args.no_streaming, not args.full))

    print()
    print(f"Time to {args.target * 100:.1f} % test accuracy (all 10,000 test digits), "
          f"bar: <= 60 s wall for the default preset")
    for result in results:
        reached, final = result["reached"], result["final"]
        if reached:
            print(f"  {result['preset']}: {reached['wall']:.1f} s wall "
                  f"({reached['train']:.1f} s train-only) at epoch {reached['epoch']:.2f}, "
                  f"{reached['accuracy'] * 100:.2f} %")
        else:
            print(f"  {result['preset']}: NOT reached; best last measurement "
                  f"{final['accuracy'] * 100:.2f} % after {final['wall']:.1f} s wall "
                  f"(epoch {final['epoch']:.2f})" if final else "  no measurement")
    if len(results) == 2 and results[0]["reached"] and results[1]["final"]:
        course = results[1]["final"]
        print(f"  course recipe for comparison: {course['accuracy'] * 100:.2f} % after "
              f"{course['epoch']:.2f} epoch(s), {course['wall']:.1f} s wall")


if __name__ == "__main__":
    main()
