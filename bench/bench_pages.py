"""Pages that open fast: every page against a bare Streamlit page of the same widget count.

For each page (home, shape_lab, filter_lab, training, inspector), in one run and interleaved
with a bare page (only ``st.number_input`` boxes, as many as the page has widgets; generated in a
temporary folder and served by a second ``streamlit run``), a new tab in Chromium is timed from
its navigation start to
  widget  - the first usable widget in the main area (an enabled input, button or slider)
  charts  - the last plotly chart drawn (the count of charts with an ``svg.main-svg`` settles)
and its requests are counted. Both servers are warm (each page opened once before timing).
Then the Training page's Start button on a COLD server (a fresh ``streamlit run``), paired with
the bare page on a cold server of its own.

Times are read in the page (``performance.now()`` in a requestAnimationFrame loop, so "drawn"
means painted), not by polling from Python. Each tab is a new browser context: a new visitor
with an empty cache and a new Streamlit session. Bars (issue 10):
  widget <= 1.5x the bare page's widget; charts <= 2.5x the bare page's widget;
  cold Training Start <= 1.5x the cold bare page's widget.

    python bench/bench_pages.py [--pairs 3] [--cold-pairs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "playground" / "app.py"
OUT = ROOT / "bench" / "out"
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic"]
PAGES = {"home": "", "shape_lab": "shape_lab", "filter_lab": "filter_lab",
         "training": "training", "inspector": "inspector"}
START = "Start training"
BARE = '''import streamlit as st

n = int(st.query_params.get("n", "13"))
for i in range(n):
    st.number_input(f"Box {i}", value=i, key=f"box{i}")
'''
# Widgets a person can use, in the main area (the home page's are its links to the labs; the
# sidebar's page links do not count).
WIDGET_TYPES = ["stNumberInput", "stSelectbox", "stMultiSelect", "stSlider", "stSelectSlider",
                "stTextInput", "stTextArea", "stCheckbox", "stToggle", "stRadio", "stButton",
                "stFormSubmitButton", "stDownloadButton", "stFileUploader", "stSegmentedControl",
                "stButtonGroup", "stPills", "stCameraInput", "stDataFrame", "stPageLink"]
# Installed before any page script: records, in the page's own clock, the first frame with a
# usable widget (or a button whose text is `window.__target`), and every change of the number
# of drawn plotly charts.
PROBE = """
window.__bench = {widget: null, target: null, charts: 0, chartsAt: null};
(function tick() {
  const b = window.__bench, now = performance.now();
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) {
    if (b.widget === null) {
      const w = main.querySelector(
        'input:not([disabled]), textarea:not([disabled]), button:not([disabled]),' +
        ' [role="slider"], [data-testid="stPageLink"] a');
      if (w && w.offsetParent !== null) b.widget = now;
    }
    if (b.target === null && window.__target) {
      for (const el of main.querySelectorAll('button:not([disabled])')) {
        if (el.innerText.includes(window.__target) && el.offsetParent !== null) {
          b.target = now; break;
        }
      }
    }
    let n = 0;
    for (const el of main.querySelectorAll('.js-plotly-plot'))
      if (el.querySelector('.main-svg')) n++;
    if (n !== b.charts) { b.charts = n; b.chartsAt = now; }
  }
  requestAnimationFrame(tick);
})();
"""
COUNT_WIDGETS = """(types) => {
  const main = document.querySelector('[data-testid="stMain"]');
  return types.reduce((n, t) => n + main.querySelectorAll(`[data-testid="${t}"]`).length, 0);
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run script`` on a free loopback port, in its own process group."""

    def __init__(self, script: Path, runs_dir: str):
        self.port = free_port()
        env = dict(os.environ, PLAYGROUND_RUNS_DIR=runs_dir)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true",
             f"--server.port={self.port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"streamlit run {script} did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def open_tab(browser, url: str, charts: int | None = 0, target: str | None = None,
             settle: float = 1.5, timeout: float = 90) -> dict:
    """Open ``url`` in a new context; wait for a widget (or the ``target`` button) and for
    ``charts`` drawn charts that stay drawn for ``settle`` s (``charts=None``: however many there
    are, once their count has not changed for ``settle`` s after the widget). Times in seconds
    from navigation."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(PROBE + (f"window.__target = {json.dumps(target)};" if target else ""))
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="commit")
    deadline = time.time() + timeout
    key = "target" if target else "widget"
    state = {}
    while time.time() < deadline:
        state = page.evaluate("() => ({...window.__bench, now: performance.now()})")
        if charts is None:   # learning the page: wait until the count of charts is stable
            last = max(state["chartsAt"] or 0, state[key] or state["now"])
            drawn = state[key] is not None and state["now"] - last > settle * 1000
        else:
            drawn = state["charts"] >= charts and (
                charts == 0 or state["now"] - state["chartsAt"] > settle * 1000)
        if state[key] is not None and drawn:
            break
        page.wait_for_timeout(100)
    else:
        print(f"  timeout on {url}: {state}", file=sys.stderr)
    widgets = page.evaluate(COUNT_WIDGETS, WIDGET_TYPES)
    context.close()
    ms = 1000.0
    return {"widget": (state.get(key) or float("nan")) / ms,
            "charts": (state.get("chartsAt") or float("nan")) / ms if charts else None,
            "n_charts": state.get("charts", 0), "widgets": widgets, "requests": len(requests)}


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def warm_pages(browser, pages: dict, pairs: int, bare_dir: Path, runs_dir: str) -> list[dict]:
    app, bare = Server(APP, runs_dir), Server(bare_dir / "bare.py", runs_dir)
    try:
        # One settling visit per page: the server's first run (imports, caches) is not timed,
        # and it tells how many charts and widgets the page has.
        shape = {}
        for name, path in pages.items():
            first = open_tab(browser, f"{app.url}/{path}", charts=None, settle=3.0)
            again = open_tab(browser, f"{app.url}/{path}", charts=first["n_charts"], settle=3.0)
            shape[name] = (max(first["n_charts"], again["n_charts"]), max(1, again["widgets"]))
            open_tab(browser, f"{bare.url}/?n={again['widgets']}")
        rows = {name: {"app": [], "bare": []} for name in pages}
        for i in range(pairs):
            for name, path in pages.items():
                n_charts, n_widgets = shape[name]
                runs = [("app", lambda path=path, n_charts=n_charts:
                         open_tab(browser, f"{app.url}/{path}", charts=n_charts)),
                        ("bare", lambda n_widgets=n_widgets:
                         open_tab(browser, f"{bare.url}/?n={n_widgets}"))]
                for side, run in (runs if i % 2 == 0 else runs[::-1]):
                    rows[name][side].append(run())
        table = []
        for name in pages:
            app_runs, bare_runs = rows[name]["app"], rows[name]["bare"]
            bare_widget = median(r["widget"] for r in bare_runs)
            table.append({
                "page": name, "widgets": shape[name][1], "charts": shape[name][0],
                "widget": median(r["widget"] for r in app_runs),
                "drawn": median(r["charts"] for r in app_runs),
                "bare": bare_widget,
                "widget_ratio": median(a["widget"] / b["widget"]
                                       for a, b in zip(app_runs, bare_runs)),
                "drawn_ratio": median(a["charts"] / b["widget"]
                                      for a, b in zip(app_runs, bare_runs) if a["charts"]),
                "requests": median(r["requests"] for r in app_runs),
                "bare_requests": median(r["requests"] for r in bare_runs),
                "runs": rows[name]})
        return table
    finally:
        app.stop()
        bare.stop()


def cold_training(browser, pairs: int, bare_dir: Path, runs_dir: str) -> dict:
    """Start button of the Training page on a fresh server vs the bare page on a fresh server."""
    def app_run():
        server = Server(APP, runs_dir)
        try:
            return open_tab(browser, f"{server.url}/training", target=START, timeout=120)
        finally:
            server.stop()

    def bare_run(n):
        server = Server(bare_dir / "bare.py", runs_dir)
        try:
            return open_tab(browser, f"{server.url}/?n={n}", timeout=120)
        finally:
            server.stop()

    app_runs, bare_runs = [], []
    for i in range(pairs):
        if i % 2 == 0:
            app_runs.append(app_run())
            bare_runs.append(bare_run(app_runs[-1]["widgets"]))
        else:
            bare_runs.append(bare_run(app_runs[-1]["widgets"] if app_runs else 20))
            app_runs.append(app_run())
    return {"start": median(r["widget"] for r in app_runs),
            "bare": median(r["widget"] for r in bare_runs),
            "ratio": median(a["widget"] / b["widget"] for a, b in zip(app_runs, bare_runs)),
            "app_runs": app_runs, "bare_runs": bare_runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--cold-pairs", type=int, default=3)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    args = parser.parse_args()
    pages = {name: PAGES[name] for name in args.pages.split(",")}
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        bare_dir = Path(tmp)
        (bare_dir / "bare.py").write_text(BARE)
        runs_dir = str(bare_dir / "runs")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        table = warm_pages(browser, pages, args.pairs, bare_dir, runs_dir)
        cold = cold_training(browser, args.cold_pairs, bare_dir, runs_dir) \
            if args.cold_pairs else None
        browser.close()
    print("load average at end:   %.2f %.2f %.2f" % os.getloadavg())
    print(f"\nwarm servers, new tab (new context), medians of {args.pairs} interleaved pairs")
    print("| page | widgets | charts | first widget s | bare s | ratio (bar 1.5) "
          "| all charts s | ratio to bare widget (bar 2.5) | requests (bare) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in table:
        drawn = f"{r['drawn']:.2f}" if r["charts"] else "-"
        drawn_ratio = f"{r['drawn_ratio']:.2f}" if r["charts"] else "-"
        print(f"| {r['page']} | {r['widgets']} | {r['charts']} | {r['widget']:.2f} | "
              f"{r['bare']:.2f} | {r['widget_ratio']:.2f} | {drawn} | {drawn_ratio} | "
              f"{r['requests']:.0f} ({r['bare_requests']:.0f}) |")
    if cold:
        print(f"\ncold server, Training 'Start training' button: {cold['start']:.2f} s, bare page "
              f"first widget {cold['bare']:.2f} s, ratio {cold['ratio']:.2f} (bar 1.5), medians "
              f"of {args.cold_pairs} pairs")
        print("  training runs: " + " ".join(f"{r['widget']:.2f}" for r in cold["app_runs"]))
        print("  bare runs:     " + " ".join(f"{r['widget']:.2f}" for r in cold["bare_runs"]))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_pages.json").write_text(json.dumps({"warm": table, "cold": cold}, indent=1))


if __name__ == "__main__":
    main()
