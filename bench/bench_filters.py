"""Filter Lab speed, measured in one run (paired, so machine load hits both sides alike).

1. ``filters.convolve`` vs OpenCV's ``cv2.filter2D`` on a 4000×3000 float32 grayscale picture
   with a 5×5 kernel (the course's edge filter). Bar (issue 3): convolve ≤ 2× OpenCV's time.
   Runs alternate (cv2, convolve, cv2, convolve, ...); the figure is the median of the per-pair
   ratios. The numpy-only fallback (used when OpenCV is missing) is timed once for reference.
2. One filter and its figure at the default working resolution (longest side 1024 px): the
   convolution, the response figure (the PNG/JPEG image, colour bar and click grid) and its JSON
   as Streamlit sends it. Bar: ≤ 100 ms.
3. For information: one full rerun of the Filter Lab page in AppTest (all panels).

    python bench/bench_filters.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from playground.charts import filter_lab as charts  # noqa: E402
from playground.core import filters  # noqa: E402
from playground.datasets import images  # noqa: E402
from playground.filter_lab import pipeline  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_convolve(repeats: int) -> dict:
    import cv2

    rng = np.random.default_rng(0)
    picture = (rng.random((3000, 4000)) * 255).astype(np.float32)
    kernel = filters.COURSE_EDGE
    # Same numbers first (OpenCV's default anchor is the centre: compare on the valid part).
    ours = filters.convolve(picture, kernel, padding="valid")
    theirs = cv2.filter2D(picture, cv2.CV_32F, kernel, borderType=cv2.BORDER_CONSTANT)[2:-2, 2:-2]
    assert np.allclose(ours, theirs, atol=1e-3), "convolve and cv2.filter2D disagree"
    for _ in range(2):  # warm-up: imports, thread pools, page faults
        timed(lambda: cv2.filter2D(picture, cv2.CV_32F, kernel, borderType=cv2.BORDER_CONSTANT))
        timed(lambda: filters.convolve(picture, kernel, padding="same"))
    cv_times, our_times, ratios = [], [], []
    for _ in range(repeats):
        t_cv = timed(lambda: cv2.filter2D(picture, cv2.CV_32F, kernel,
                                          borderType=cv2.BORDER_CONSTANT))
        t_ours = timed(lambda: filters.convolve(picture, kernel, padding="same"))
        cv_times.append(t_cv)
        our_times.append(t_ours)
        ratios.append(t_ours / t_cv)
    t_valid = statistics.median(timed(lambda: filters.convolve(picture, kernel))
                                for _ in range(3))
    t_numpy = timed(lambda: filters.convolve(picture, kernel, padding="same", backend="numpy"))
    return dict(cv2_ms=1e3 * statistics.median(cv_times),
                convolve_same_ms=1e3 * statistics.median(our_times),
                convolve_valid_ms=1e3 * t_valid,
                ratio=statistics.median(ratios), numpy_fallback_ms=1e3 * t_numpy)


def bench_filter_and_figure(repeats: int) -> dict:
    picture = images.load_sample("Chelsea the cat")
    # A 4:3 photo at the default working resolution: the cat tiled to 900×1200, downscaled to
    # 768×1024.
    tiled = np.tile(picture.pixels, (3, 3, 1))[:900, :1200]
    rgb = images.resize_longest(tiled, 1024).astype(np.float32)
    gray = images.to_gray(rgb)
    kernel = filters.KERNELS["Course edge 5×5 (vertical edges)"]

    def one():
        response = filters.convolve(gray, kernel, padding="same")
        figure = charts.picture_figure(response, "Response", signed=True, pickable=True)
        return figure.to_json()

    one()
    times = [timed(one) for _ in range(repeats)]
    settings = pipeline.LabSettings()
    pipeline_times = [timed(lambda: pipeline.run(rgb, settings)) for _ in range(repeats)]
    return dict(shape="×".join(map(str, gray.shape)),
                one_filter_figure_ms=1e3 * statistics.median(times),
                worst_ms=1e3 * max(times),
                pipeline_conv_relu_pool_ms=1e3 * statistics.median(pipeline_times))


def bench_page_rerun() -> dict:
    from tests.helpers import app_test

    at = app_test("filter_lab")
    times = [timed(at.run) for _ in range(3)]
    return dict(page_rerun_ms=1e3 * statistics.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest rerun timing")
    args = parser.parse_args()

    conv = bench_convolve(args.repeats)
    print(f"convolve vs cv2.filter2D, 4000×3000 float32, 5×5, {args.repeats} paired runs")
    print(f"  cv2.filter2D            {conv['cv2_ms']:8.1f} ms (median)")
    print(f"  convolve SAME           {conv['convolve_same_ms']:8.1f} ms (median)")
    print(f"  convolve VALID          {conv['convolve_valid_ms']:8.1f} ms (median of 3)")
    print(f"  ratio convolve / cv2    {conv['ratio']:8.2f}x   (median of per-pair ratios; "
          f"bar ≤ 2.00x: {'PASS' if conv['ratio'] <= 2 else 'FAIL'})")
    print(f"  numpy-only fallback     {conv['numpy_fallback_ms']:8.1f} ms (one run, used only "
          f"without OpenCV)")

    fig = bench_filter_and_figure(args.repeats)
    print(f"one filter + its figure at {fig['shape']} (convolve, image, colour bar, click grid, "
          f"to_json)")
    print(f"  median                  {fig['one_filter_figure_ms']:8.1f} ms   (bar ≤ 100 ms: "
          f"{'PASS' if fig['one_filter_figure_ms'] <= 100 else 'FAIL'}); worst "
          f"{fig['worst_ms']:.1f} ms")
    print(f"  pipeline conv+ReLU+pool {fig['pipeline_conv_relu_pool_ms']:8.1f} ms (no figures)")

    if not args.no_page:
        page = bench_page_rerun()
        print(f"Filter Lab page rerun in AppTest (all panels, 3 runs): "
              f"{page['page_rerun_ms']:.0f} ms (median; information, no bar)")


if __name__ == "__main__":
    main()
