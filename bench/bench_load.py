"""Load on loopback: many browser sessions use the Shape Lab while trainings run.

Each lab session is its own Chromium context (its own Streamlit session). It types a height
of its own into the Shape Lab and times how long until the page shows the output shape for
*that* height: from the key press to the new number on screen, in the browser. The same value
doubles as the isolation check: a session that ever shows another session's number fails.
Trainings are started through the Live Training page, as a user would.

    python bench/bench_load.py [--sessions 10] [--interactions 10] [--trainings 2]

Prints the median and 95th percentile of the interaction times, and whether every session only
ever saw its own state. Also used by tests/test_load.py with smaller numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground import shapes  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)   # seconds, one per interaction
    wrong_state: list[str] = field(default_factory=list)   # sessions that saw another's value
    failures: list[str] = field(default_factory=list)      # interactions that never answered
    trainings_started: int = 0
    trainings_progressed: int = 0

    def summary(self) -> str:
        if not self.latencies:
            return "no interaction answered"
        lat = sorted(self.latencies)
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        return (f"{len(lat)} interactions: median {statistics.median(lat) * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms; "
                f"wrong state seen: {len(self.wrong_state)}; unanswered: {len(self.failures)}; "
                f"trainings started {self.trainings_started}, "
                f"progressing {self.trainings_progressed}")


def expected_shape_text(height: int) -> str:
    """The Shape Lab's defaults (3-wide input, 2×2 kernel, stride 1, VALID, 1 filter)."""
    out = shapes.conv_output_shape((height, 3, 1), 1, 2, 1, "valid")
    return " × ".join(str(v) for v in out)


async def _start_training(browser, url: str, examples: int, epochs: int, result: LoadResult):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(url + "/training")
    await page.get_by_label("Training examples").fill(str(examples))
    await page.get_by_label("Epochs").fill(str(epochs))
    await page.get_by_role("button", name="Start training").click()
    await page.wait_for_url("**job=*", timeout=120_000)
    result.trainings_started += 1
    return context, page


async def _lab_session(browser, url: str, index: int, interactions: int, result: LoadResult,
                       answer_timeout_ms: int):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(url + "/shape_lab")
    height_box = page.get_by_label("Input height H")
    await height_box.wait_for()
    metric = page.locator('[data-testid="stMetricValue"]').first
    # A selector, not an element handle: a rerun may replace the metric's element.
    watch = ("(want) => { const el = document.querySelector('[data-testid=\"stMetricValue\"]');"
             " return el && el.innerText.trim() === want; }")
    for k in range(interactions):
        # Distinct per session and per step, so a leak between sessions cannot go unseen.
        height = 10 + index * 40 + k
        expected = expected_shape_text(height)
        await height_box.fill(str(height))
        t0 = time.perf_counter()
        await height_box.press("Enter")
        try:
            await page.wait_for_function(watch, arg=expected, timeout=answer_timeout_ms,
                                         polling="raf")
        except Exception:  # noqa: BLE001 - any failure to answer is recorded, not raised
            seen = (await metric.inner_text()).strip()
            result.failures.append(f"session {index} step {k}: wanted {expected}, saw {seen}")
            continue
        result.latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(0.2)  # a person does not type continuously
        seen = (await metric.inner_text()).strip()
        if seen != expected:
            result.wrong_state.append(f"session {index}: wanted {expected}, saw {seen}")
    final = await height_box.input_value()
    if final != str(10 + index * 40 + interactions - 1):
        result.wrong_state.append(f"session {index}: its input now holds {final}")
    await context.close()


async def run_load(url: str, sessions: int = 10, interactions: int = 10, trainings: int = 2,
                   train_examples: int = 3000, epochs: int = 30,
                   answer_timeout_ms: int = 20_000) -> LoadResult:
    from playwright.async_api import async_playwright

    result = LoadResult()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=CHROMIUM_ARGS)
        training_pages = []
        for _ in range(trainings):
            training_pages.append(await _start_training(browser, url, train_examples, epochs,
                                                        result))
        # Let the workers get past TensorFlow's start-up, so the labs run under real load.
        for _, page in training_pages:
            try:
                await page.get_by_text(re.compile(r"epoch \d+/\d+, batch [1-9]")).first.wait_for(
                    timeout=180_000)
                result.trainings_progressed += 1
            except Exception:  # noqa: BLE001
                pass
        # The trainers' own browsers would be on other machines: close their tabs (the runs go
        # on until the viewer time-out) so their live charts are not drawn on this machine.
        run_urls = [page.url for _, page in training_pages]
        for context, _ in training_pages:
            await context.close()
        await asyncio.gather(*[
            _lab_session(browser, url, i, interactions, result, answer_timeout_ms)
            for i in range(sessions)])
        for run_url in run_urls:  # reopen each run (re-attach by its URL) and stop it
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            page = await context.new_page()
            try:
                await page.goto(run_url)
                await page.get_by_role("button", name="Stop").click(timeout=30_000)
            except Exception:  # noqa: BLE001 - the run may have finished already
                pass
            await context.close()
        await browser.close()
    return result


def start_server(runs_dir: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PLAYGROUND_RUNS_DIR=runs_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "playground" / "app.py"),
         "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
         "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("streamlit did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--interactions", type=int, default=10)
    parser.add_argument("--trainings", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        proc, url = start_server(runs_dir)
        try:
            result = asyncio.run(run_load(url, args.sessions, args.interactions,
                                          args.trainings))
            print(f"{args.sessions} sessions x {args.interactions} interactions, "
                  f"{args.trainings} trainings running, 2 cores (load generator on the same "
                  "machine)")
            print(result.summary())
            print("server still up at the end:", proc.poll() is None)
            for line in (result.wrong_state + result.failures)[:10]:
                print("  ", line)
        finally:
            stop_server(proc)


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM (running trainings stop and save), then SIGKILL the group if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
