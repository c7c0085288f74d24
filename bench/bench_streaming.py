"""Streaming overhead and command latency of the live training view.

1. Throughput: the same network on the same digits, one epoch per trial, trained with plain
   ``model.fit`` (A) and with the live view's callbacks (B: StreamingCallback building
   snapshots every 0.5 s + gradient statistics + ControlCallback polling the commands) whose
   snapshots travel through the job's real pipe to a separate consumer process that drains it
   like the server does. Trials are interleaved A B B A A B ... in one run; the figure is the
   ratio of median throughputs (bar: >= 0.95).
2. Command latency: a real spawned job (playground.training.jobs.Registry); the time from
   ``job.pause()`` / ``job.resume()`` / ``job.stop()`` to the worker's acknowledged state
   (bar: <= 0.5 s).

Usage: python bench/bench_streaming.py [--samples 6000] [--pairs 8] [--presses 8]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.training import channels as job_channels  # noqa: E402
from playground.training import jobs  # noqa: E402
from playground.training import settings as training_settings  # noqa: E402


def default_run() -> dict:
    preset = next(iter(training_settings.TRAINING_DEFAULTS), "Course CNN (2 conv)")
    settings = training_settings.default_settings(preset)
    return {"preset": preset, "optimizer": settings["optimizer"],
            "learning_rate": settings["learning_rate"], "batch_size": settings["batch_size"]}


def _consume(channels, done) -> None:
    channels.after_start()
    count = 0
    while not done.is_set():
        count += len(channels.receive())
        time.sleep(0.05)
    channels.receive()


def throughput(samples: int, pairs: int) -> None:
    import keras

    from playground.datasets import mnist
    from playground.training import worker
    run = default_run()
    settings = training_settings.normalize_settings(dict(run, train_examples=samples,
                                                         validation_split=0.0, epochs=1))
    arrays = mnist.mnist_slice(samples, 0.0, seed=0)
    batch = settings["batch_size"]
    steps = math.ceil(samples / batch)
    channels = job_channels.Channels(viewer_timeout=3600)
    channels.parent_pid = os.getppid()  # this process plays the worker: its parent is ours
    done = job_channels.CONTEXT.Event()
    consumer = job_channels.CONTEXT.Process(target=_consume, args=(channels, done), daemon=True)
    consumer.start()
    control = channels.worker_side()
    sent = []

    def sink(snapshot):
        sent.append(1)
        channels.put_snapshot(snapshot)

    # One model for both modes, traced once in the warm-up: a fresh model per trial would
    # spend seconds re-tracing its graph, which has nothing to do with streaming.
    keras.utils.set_random_seed(0)
    model = worker.build_compiled(settings)

    live = worker.StreamingCallback(
        sink, arrays.x_test[0], (arrays.x_train[:64], arrays.y_train[:64]), interval=0.5,
        stats_every=25, epochs=1, steps=steps, batch_size=batch)
    live.n_train = samples
    live_callbacks = [live, worker.ControlCallback(control, live)]
    # The callback traces its probe and gradient graphs once per run, before the first batch;
    # that start-up cost is measured on its own, not spread over the trials.
    live.set_model(model)
    began = time.perf_counter()
    live.on_train_begin()
    setup = time.perf_counter() - began

    def trial(streaming: bool) -> float:
        start = time.perf_counter()
        model.fit(arrays.x_train, arrays.y_train, batch_size=batch, epochs=1, verbose=0,
                  shuffle=True, callbacks=live_callbacks if streaming else [])
        return samples / (time.perf_counter() - start)

    print(f"network {run['preset']!r}, {run['optimizer']} lr {run['learning_rate']}, "
          f"batch {batch}, {samples} digits per trial, {pairs} A/B pairs (ABBA order)")
    trial(False), trial(True), sent.clear()  # warm-up: graph tracing, caches
    plain, live = [], []
    for i in range(pairs):
        order = (False, True) if i % 2 == 0 else (True, False)
        for streaming in order:
            rate = trial(streaming)
            (live if streaming else plain).append(rate)
            print(f"  pair {i + 1}: {'live ' if streaming else 'plain'} {rate:8.0f} samples/s")
    # Paired: each pair ran back to back, so the median of the per-pair ratios cancels the
    # machine's drifts (here throughput jumps between ~4,500 and ~8,700 samples/s from one
    # minute to the next); a ratio of the two medians would not.
    pair_ratios = [b / a for a, b in zip(plain, live)]
    ratio = statistics.median(pair_ratios)
    print(f"plain fit   median {statistics.median(plain):8.0f} samples/s")
    print(f"live view   median {statistics.median(live):8.0f} samples/s "
          f"({len(sent)} snapshots sent, {channels.dropped} dropped)")
    print(f"one-off start-up of the live callback (tracing its probe and gradient graphs, "
          f"once per run before the first batch): {setup:.2f} s")
    print(f"THROUGHPUT RATIO live/plain (median of pairs) = {ratio:.3f} (per pair: "
          f"{', '.join(f'{r:.3f}' for r in pair_ratios)}; bar >= 0.95)")
    done.set()
    channels.flush(2)
    consumer.join(5)


def command_latency(presses: int) -> None:
    run = default_run()
    registry = jobs.Registry(max_runs=1, viewer_timeout=600)
    job = registry.start(dict(run, train_examples=6000, validation_split=0.1, epochs=100))

    def wait(state: str, timeout: float = 180.0) -> float:
        start = time.perf_counter()
        while job.state != state:
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"no {state!r} within {timeout} s (state {job.state})")
            job.touch()
            time.sleep(0.002)
        return time.perf_counter() - start

    wait("running")
    registry.poll()
    pauses, resumes = [], []
    for _ in range(presses):
        time.sleep(0.7)
        job.touch()
        registry.poll()
        job.pause()
        pauses.append(wait("paused"))
        time.sleep(0.2)
        job.resume()
        resumes.append(wait("running"))
    time.sleep(0.5)
    job.stop()
    stop = wait("stopping")
    print(f"Pause  -> paused : median {statistics.median(pauses) * 1000:6.1f} ms, "
          f"max {max(pauses) * 1000:6.1f} ms over {presses} presses")
    print(f"Resume -> running: median {statistics.median(resumes) * 1000:6.1f} ms, "
          f"max {max(resumes) * 1000:6.1f} ms")
    print(f"Stop   -> stopping: {stop * 1000:6.1f} ms  (bar: every press answered <= 500 ms)")
    registry.shutdown(timeout=120)
    print(f"stopped run saved: {job.describe()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--presses", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("PLAYGROUND_RUNS_DIR", str(Path("/tmp") / "bench_streaming_runs"))
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at start (shared machine: "
          "other work running at the same time makes both modes slower; the ratio is paired)")
    throughput(args.samples, args.pairs)
    command_latency(args.presses)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
