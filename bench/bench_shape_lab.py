"""Server-side rerun time of the Shape Lab page after an interaction (bar: <= 100 ms).

Runs the app headless with Streamlit's AppTest and alternates, in one process, paired reruns of
  - the Shape Lab after a widget change (input height, stride, padding, window position, ...),
  - the home page rerun (baseline: the cost of any page in this app),
timing the page script itself (Streamlit's exec of the page, i.e. what the server does between
receiving the widget change and sending the last delta) and the whole ``at.run()`` round trip.

AppTest compiles the script anew on every run; a real server keeps the compiled bytecode in one
ScriptCache, so the bench shares one cache too (the first, cold run is reported separately).

    python bench/bench_shape_lab.py [--runs 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit.runtime.scriptrunner.script_runner as script_runner  # noqa: E402
import streamlit.testing.v1.app_test as app_test_module  # noqa: E402
import streamlit.testing.v1.local_script_runner as local_runner  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = ROOT / "playground" / "app.py"
SHARED_CACHE = ScriptCache()
# As on a server: compile each script once (AppTest makes a new cache for every run).
local_runner.ScriptCache = app_test_module.ScriptCache = lambda: SHARED_CACHE

_exec = script_runner.exec_func_with_error_handling
_last = {"seconds": 0.0, "cpu": 0.0}


def _timed_exec(func, ctx):
    # Wall time, and the script thread's own CPU time: on a machine shared with other jobs the
    # wall time mostly measures the queue for a core, the CPU time what the page itself costs.
    start, cpu = time.perf_counter(), time.thread_time()
    try:
        return _exec(func, ctx)
    finally:
        _last["seconds"] = time.perf_counter() - start
        _last["cpu"] = time.thread_time() - cpu


script_runner.exec_func_with_error_handling = _timed_exec

# (widget key, values cycled through): the interactions a learner makes most.
INTERACTIONS = [
    ("sl_h", [7, 8, 6, 5]),
    ("sl_sh", [2, 3, 1]),
    ("sl_kh", [3, 2]),
    ("sl_pos", [1, 2, 3, 0]),
    ("sl_padding", ["same", "valid", "explicit"]),
    ("sl_in_h", [32, 28]),
]


def _app(page: str | None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page:
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
        at.run()
    assert not at.exception, at.exception
    return at


def _set(at: AppTest, key: str, value) -> None:
    for kind in ("number_input", "radio", "slider"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            found[0].set_value(value)
            return
    raise KeyError(key)


def _run(at: AppTest) -> tuple[float, float, float]:
    start = time.perf_counter()
    at.run()
    wall = time.perf_counter() - start
    assert not at.exception, at.exception
    return _last["seconds"], _last["cpu"], wall


def _fmt(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):6.1f} ms   p90 {p90:6.1f} ms   max {ms[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="paired reruns (default 40)")
    args = parser.parse_args()

    lab = _app("shape_lab")
    cold = _last["seconds"]
    home = _app(None)
    lab_exec, lab_cpu, lab_wall, home_exec, home_cpu, home_wall = [], [], [], [], [], []
    for i in range(args.runs):
        key, values = INTERACTIONS[i % len(INTERACTIONS)]
        _set(lab, key, values[(i // len(INTERACTIONS)) % len(values)])
        seconds, cpu, wall = _run(lab)
        lab_exec.append(seconds)
        lab_cpu.append(cpu)
        lab_wall.append(wall)
        seconds, cpu, wall = _run(home)
        home_exec.append(seconds)
        home_cpu.append(cpu)
        home_wall.append(wall)

    ratios = [a / b for a, b in zip(lab_exec, home_exec)]
    print(f"Shape Lab rerun after an interaction, {args.runs} paired runs "
          f"(interactions: {', '.join(k for k, _ in INTERACTIONS)})")
    print(f"  first (cold) page run          {cold * 1000:6.1f} ms")
    print(f"  load average (1 min)           {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  Shape Lab page script, wall    {_fmt(lab_exec)}")
    print(f"  Shape Lab page script, CPU     {_fmt(lab_cpu)}")
    print(f"  home page script, wall         {_fmt(home_exec)}")
    print(f"  home page script, CPU          {_fmt(home_cpu)}")
    print(f"  ratio Shape Lab / home, paired median {statistics.median(ratios):.2f}x")
    print(f"  Shape Lab at.run() round trip  {_fmt(lab_wall)}")
    print(f"  home at.run() round trip       {_fmt(home_wall)}")
    for what, values in (("wall", lab_exec), ("CPU", lab_cpu)):
        verdict = "PASS" if statistics.median(values) <= 0.100 else "FAIL"
        print(f"bar: median server-side rerun ({what}) <= 100 ms -> {verdict} "
              f"({statistics.median(values) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
