"""Scrubbing a run's replay: the server-side work of one slider move, against drawing the live
snapshot, paired in one run.

A real run of the course CNN is trained in this process first (worker.train_run, as a job does;
its history written by playground.training.history.Recorder, its live snapshots kept). Then, in
interleaved trials A B B A A B ...:

  A (live)    the figures the live view draws from a snapshot in memory: learning curves,
              first-layer filters, one layer's activations, probabilities; each serialised to
              JSON as st.plotly_chart does;
  B (replay)  what a slider move costs the page: list the history's frames, load one frame from
              disk, read the saved run's logs, build the same figures (curves with the marker)
              and serialise them.

Printed: the history's size on disk and frame count, A and B medians / 95th percentiles, the
paired ratio B / A. Bar: B's median <= 200 ms.

Usage: python bench/bench_replay.py [--samples 6000] [--epochs 1] [--pairs 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["PLAYGROUND_RUNS_DIR"] = tempfile.mkdtemp(prefix="bench_replay_")

from playground.charts import replay as replay_charts  # noqa: E402
from playground.core import runs  # noqa: E402
from playground.training import history, results  # noqa: E402
from playground.training import settings as training_settings  # noqa: E402

PRESET = "Course CNN (2 conv)"


class Control:
    """worker.train_run's control: never paused or stopped."""

    def paused(self):
        return False

    def stopped(self):
        return False

    def next_command(self):
        return None

    def set_state(self, name):
        pass

    def viewer_gone(self):
        return ""

    def reply(self, text):
        pass


def train(samples: int, epochs: int):
    from playground.training import worker

    defaults = training_settings.default_settings(PRESET)
    settings = training_settings.normalize_settings(dict(
        preset=PRESET, optimizer=defaults["optimizer"], learning_rate=defaults["learning_rate"],
        batch_size=defaults["batch_size"], train_examples=samples, validation_split=0.0,
        epochs=epochs, test_examples=500))
    run_id = runs.new_run_id()
    runs.run_path(run_id).mkdir(parents=True)
    runs.write_json(runs.run_path(run_id) / "settings.json", settings)
    shown = []
    began = time.perf_counter()
    worker.train_run(run_id, settings, shown.append, Control())
    print(f"trained {PRESET}: {samples:,} samples × {epochs} epoch(s) in "
          f"{time.perf_counter() - began:.1f} s, {len(shown)} live snapshots")
    return run_id, settings, [s for s in shown if s.started and s.phase != "testing"]


def serialise(figures: dict) -> int:
    return sum(len(figure.to_json()) for figure in figures.values())


def live(snapshot, settings, names, label) -> float:
    began = time.perf_counter()
    figures = replay_charts.moment_figures(snapshot, len(snapshot.batch_log),
                                           snapshot.batch_log, snapshot.epoch_log,
                                           label=label, class_names=names)
    serialise(figures)
    return time.perf_counter() - began


def scrub(run_id: str, index: int, names, label) -> float:
    began = time.perf_counter()
    folder = runs.run_path(run_id)
    steps = history.frame_steps(folder)
    frame = history.load_frame(folder, steps[index % len(steps)])
    saved = results.saved_run(run_id)
    figures = replay_charts.moment_figures(frame, frame.step, saved["batch_log"],
                                           saved["epoch_log"], label=label, class_names=names)
    serialise(figures)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=30)
    args = parser.parse_args()
    run_id, settings, snapshots = train(args.samples, args.epochs)
    folder = runs.run_path(run_id)
    steps = history.frame_steps(folder)
    print(f"history: {len(steps)} frames, {history.history_bytes(folder) / 2**20:.2f} MiB on "
          f"disk ({history.frame_bytes(snapshots[-1]) / 1024:.0f} KiB of float16 arrays a "
          f"frame before compression; bound {history.MAX_FRAMES} frames / "
          f"{history.MAX_BYTES / 2**20:.0f} MiB)")
    names = list(results.class_names(run_id))
    label = results.run_test_picture(run_id, settings["probe_index"])[1]
    live(snapshots[-1], settings, names, label)            # warm both paths once
    scrub(run_id, 0, names, label)
    a_times, b_times = [], []
    for k in range(args.pairs):
        order = ("AB", "BA")[k % 2]
        for which in order:
            if which == "A":
                a_times.append(live(snapshots[(k * 7) % len(snapshots)], settings, names,
                                    label))
            else:
                b_times.append(scrub(run_id, k * 7, names, label))

    def line(name, times):
        ms = sorted(t * 1000 for t in times)
        return (f"{name}: median {statistics.median(ms):.1f} ms, "
                f"p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, n={len(ms)}")

    print(line("A live snapshot -> figures", a_times))
    print(line("B slider move: load frame + logs -> figures", b_times))
    ratios = [b / a for a, b in zip(a_times, b_times)]
    print(f"paired ratio B / A: median {statistics.median(ratios):.2f}")
    verdict = "met" if statistics.median(b_times) <= 0.2 else "NOT met"
    print(f"bar (slider move <= 200 ms, median): {verdict}")
    try:
        print(f"load average: {os.getloadavg()[0]:.2f} (2 cores shared)")
    except OSError:
        pass


if __name__ == "__main__":
    main()
