"""Wall time to a test accuracy with a data set's default preset and its default settings.

Trains the data set's default preset (``settings.DEFAULT_PRESETS``; MNIST: "Fast MNIST CNN")
with its recipe (``settings.TRAINING_DEFAULTS``) on all the training pictures, the way a training
job does (``datasets.base.training_slice``, ``models.build_for_training``,
``models.training_callbacks``, ``model.fit`` on the arrays) with the live view's
``worker.StreamingCallback`` attached ("streaming on"). The accuracy on all the test pictures
is measured at every epoch end (``--evals-per-epoch`` for more often); the clock stops at the
first measurement >= the target. Bars (issues 1 and 11): MNIST 99 % in <= 60 s, Fashion-MNIST
92 % in <= 60 s, the generated shapes 95 % in <= 30 s.

Figures printed:
  wall to target     from "Start" (before the model is built) to the measurement that reached
                     the target, including those measurements and the streaming callback;
  train-only         the same minus the time spent measuring test accuracy;
  plus the TensorFlow import, the MNIST load (first and cached), and the load average, since
  the 2-core machine is shared and timings depend on it.

Usage:
  python bench/bench_time_to_accuracy.py                 # MNIST, the default preset
  python bench/bench_time_to_accuracy.py --compare       # + the course's 2-conv recipe, 1 epoch
  python bench/bench_time_to_accuracy.py --seed 1 --evals-per-epoch 4
  python bench/bench_time_to_accuracy.py --dataset fashion_mnist --seeds 0,1,2 --course-keras
  python bench/bench_time_to_accuracy.py --dataset shapes --seeds 0,1,2
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


TARGETS = {"mnist": 0.99, "fashion_mnist": 0.92, "shapes": 0.95, "cifar10": 0.70}
BARS = {"mnist": 60, "fashion_mnist": 60, "shapes": 30}


def run(preset: str, settings: dict, target: float, evals_per_epoch: int, streaming: bool,
        stop_at_target: bool, dataset: str = "mnist") -> dict:
    import keras
    import numpy as np

    from playground.datasets import load_dataset
    from playground.datasets.base import training_slice
    from playground.training import models
    from playground.training import settings as training_settings

    t_start = time.perf_counter()
    data = load_dataset(dataset)
    info = training_settings.data_info(dataset)
    part = training_slice(data, settings["train_examples"], settings["validation_split"],
                          settings["seed"])
    spec = training_settings.preset_for(preset, info)
    model = models.build_for_training(spec, settings, data=info)
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

    print(f"{preset} on {dataset}: {model.count_params():,} parameters; {note}")
    print("  settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    print(f"  {load()} (at start)")
    model.fit(part.x_train, part.y_train, batch_size=batch_size, epochs=int(settings["epochs"]),
              validation_data=part.validation_data, shuffle=True, verbose=0,
              callbacks=callbacks + [TestAccuracy()])
    reached = next((m for m in marks if m["accuracy"] >= target), None)
    print(f"  {load()} (at end)")
    return {"preset": preset, "reached": reached, "final": marks[-1] if marks else None,
            "seed": settings["seed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--preset", default=None,
                        help="default: the data set's default preset")
    parser.add_argument("--target", type=float, default=None,
                        help="default: 0.99 MNIST, 0.92 Fashion-MNIST, 0.95 shapes")
    parser.add_argument("--seed", type=int, default=None, help="override the settings' seed")
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds, one run each, and their median")
    parser.add_argument("--evals-per-epoch", type=int, default=1)
    parser.add_argument("--no-streaming", action="store_true")
    parser.add_argument("--full", action="store_true",
                        help="train all epochs instead of stopping at the target")
    parser.add_argument("--compare", action="store_true",
                        help="also train the course's 2-conv recipe (Adam 1e-3, batch 100)")
    parser.add_argument("--compare-epochs", type=int, default=1,
                        help="epochs of the course recipe (its own default is 15, ~10 min)")
    parser.add_argument("--course-keras", action="store_true",
                        help="also train the course's Keras recipe: two conv blocks, SGD "
                             "(0.01, batch 32), 5 epochs, all of them")
    args = parser.parse_args()

    print(f"bench_time_to_accuracy: {load()}")
    began = time.perf_counter()
    import tensorflow as tf  # noqa: F401  (timed on its own: a job's process pays it once)

    from playground.datasets import load_dataset
    from playground.training import models  # noqa: F401  (keras: part of the timed import)
    from playground.training import settings as training_settings
    print(f"import tensorflow + keras: {time.perf_counter() - began:.1f} s "
          f"(process start to here {time.perf_counter() - T_PROCESS:.1f} s)")
    began = time.perf_counter()
    data = load_dataset(args.dataset, use_memory=False)
    first = time.perf_counter() - began
    began = time.perf_counter()
    load_dataset(args.dataset, use_memory=False)
    print(f"load_dataset({args.dataset!r}): {first:.2f} s from {data.loaded_from}; again "
          f"{time.perf_counter() - began:.2f} s")

    target = args.target or TARGETS.get(args.dataset, 0.9)
    preset = args.preset or training_settings.DEFAULT_PRESETS[args.dataset]
    seeds = [int(v) for v in args.seeds.split(",")] if args.seeds else [args.seed]
    results = []
    for seed in seeds:
        settings = training_settings.training_defaults(preset)
        if seed is not None:
            settings["seed"] = seed
        results.append(run(preset, settings, target, args.evals_per_epoch,
                           not args.no_streaming, not args.full, args.dataset))
    extra = []
    if args.compare:
        course = "Course CNN (2 conv)"
        course_settings = {**training_settings.training_defaults(course),
                           "epochs": args.compare_epochs}
        if seeds[0] is not None:
            course_settings["seed"] = seeds[0]
        extra.append(run(course, course_settings, target, args.evals_per_epoch,
                         not args.no_streaming, not args.full, args.dataset))
    if args.course_keras:
        course = "Course CNN (2 conv)"
        course_settings = {**training_settings.training_defaults(course), "optimizer": "SGD",
                           "learning_rate": 0.01, "batch_size": 32, "epochs": 5,
                           "lr_schedule": "constant", "seed": seeds[0] or 0}
        extra.append(run(course, course_settings, target, args.evals_per_epoch,
                         not args.no_streaming, False, args.dataset))

    print()
    bar = BARS.get(args.dataset)
    print(f"Time to {target * 100:.1f} % test accuracy on {args.dataset} (all "
          f"{len(data.y_test):,} test pictures)"
          + (f", bar: <= {bar} s wall for the default preset" if bar else ""))
    for result in results + extra:
        reached, final = result["reached"], result["final"]
        if reached:
            print(f"  {result['preset']} seed {result['seed']}: {reached['wall']:.1f} s wall "
                  f"({reached['train']:.1f} s train-only) at epoch {reached['epoch']:.2f}, "
                  f"{reached['accuracy'] * 100:.2f} %")
        else:
            print(f"  {result['preset']} seed {result['seed']}: NOT reached; last measurement "
                  f"{final['accuracy'] * 100:.2f} % after {final['wall']:.1f} s wall "
                  f"(epoch {final['epoch']:.2f})" if final else "  no measurement")
    walls = sorted(r["reached"]["wall"] if r["reached"] else math.inf for r in results)
    if len(results) > 1:
        median = walls[len(walls) // 2]
        print(f"  median over seeds {seeds}: {median:.1f} s"
              + (f" (bar {bar} s: {'met' if median <= bar else 'NOT met'})" if bar else ""))
    for result in extra:
        final = result["final"]
        if final:
            print(f"  comparison, {result['preset']} (course recipe): "
                  f"{final['accuracy'] * 100:.2f} % after {final['epoch']:.2f} epoch(s), "
                  f"{final['wall']:.1f} s wall")


if __name__ == "__main__":
    main()
