"""Start-up: from `streamlit run playground/app.py` to the home page rendered in Chromium.

Prints, for N cold starts (median and each run):
  server  - process spawn -> /_stcore/health answers
  home    - process spawn -> home page's title and pipeline chart visible in the browser
  lab     - then, the Shape Lab rendered after clicking its link (no TensorFlow import)
and, in the same run, the time `python -c "import tensorflow"` takes, to show what the pages
that do not train avoid paying.

    python bench/bench_startup.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_start(browser) -> dict:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "playground" / "app.py"),
         "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
         "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        t_health = time.perf_counter() - t0
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.get_by_role("heading", name="CNN Playground").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        t_home = time.perf_counter() - t0
        t1 = time.perf_counter()
        page.get_by_role("link", name="Shape Lab").first.click()
        page.get_by_role("heading", name="Shape Lab").first.wait_for(timeout=60_000)
        t_lab = time.perf_counter() - t1
        context.close()
        return {"server": t_health, "home": t_home, "lab": t_lab}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        results = [one_start(browser) for _ in range(args.runs)]
        browser.close()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tf_import = time.perf_counter() - t0
    for key in ("server", "home", "lab"):
        values = [r[key] for r in results]
        print(f"{key:7s} median {statistics.median(values):6.2f} s   runs "
              + " ".join(f"{v:.2f}" for v in values))
    print(f"import tensorflow alone (fresh interpreter): {tf_import:.2f} s")


if __name__ == "__main__":
    main()
