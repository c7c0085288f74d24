"""Feature visualisation ("What a filter wants to see"): time for whole grids, and how each
generated picture's activation compares with the best of 1,000 test digits.

The model is the pretrained one (playground/assets/pretrained_mnist.keras: the default preset
"Fast MNIST CNN", conv 3×3×16 stride 2 then conv 3×3×32). Bar (issue 14): a grid for the default
preset's first conv layers in <= 10 s on 2 cores.

Figures printed:
  per layer    wall time of ``features.visualise`` for all its filters (the first call of a
               process includes tracing the step function), the filters whose generated picture
               beats every one of the first 1,000 test digits, and the smallest and median ratio
               generated / best test digit;
  both layers  wall time for the two grids together, cold (first in this process) and warm
               (the same calls again: what a rerun without the page's cache would pay);
  classes      the 10 class pictures (time, how many Keras reads as their own class);
  plus the model load and the load average (the 2-core machine is shared).

Usage:
  python bench/bench_feature_viz.py
  python bench/bench_feature_viz.py --repeats 3 --steps 128
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BAR_SECONDS = 10.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm repeats of both grids")
    parser.add_argument("--steps", type=int, default=None, help="default: features.STEPS")
    args = parser.parse_args()
    print(f"bench_feature_viz: {load()} (at start)")
    start = time.perf_counter()
    import numpy as np

    from playground.datasets import mnist
    from playground.inspector import features, pretrained

    model = pretrained.pretrained_model()
    digits = mnist.float_test_set()[0][:1000]
    print(f"  import + load the pretrained model + test digits: "
          f"{time.perf_counter() - start:.2f} s")
    steps = args.steps or features.STEPS
    layers = features.conv_layers(model)
    cold = 0.0
    for name, count in layers:
        t = time.perf_counter()
        grid = features.visualise(model, name, steps=steps)
        seconds = time.perf_counter() - t
        cold += seconds
        best = features.filter_activations(model, name, digits).max(axis=0)[grid.units]
        ratio = grid.activations / best
        print(f"  {name}: {count} filters, {steps} steps: {seconds:.2f} s (cold); beats every "
              f"test digit on {int((grid.activations > best).sum())}/{count} filters; "
              f"generated / best digit: min {ratio.min():.2f}, median {np.median(ratio):.2f}")
    verdict = "met" if cold <= BAR_SECONDS else "NOT met"
    print(f"  both conv layers ({sum(c for _n, c in layers)} filters), cold: {cold:.2f} s "
          f"(bar {BAR_SECONDS:.0f} s: {verdict})")
    warm = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for name, _count in layers:
            features.visualise(model, name, steps=steps)
        warm.append(time.perf_counter() - t)
    print(f"  both conv layers, warm: {' / '.join(f'{w:.2f}' for w in warm)} s "
          f"(median {float(np.median(warm)):.2f} s)")
    t = time.perf_counter()
    grid = features.visualise(model, features.CLASS_OBJECTIVE, steps=steps)
    seconds = time.perf_counter() - t
    read = np.argmax(model.predict(grid.pictures, verbose=0), axis=1)
    print(f"  classes: 10 pictures in {seconds:.2f} s; Keras reads "
          f"{int((read == np.arange(10)).sum())}/10 as their own class")
    print(f"bench_feature_viz: {load()} (at end)")


if __name__ == "__main__":
    main()
