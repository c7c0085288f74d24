"""Load on loopback: many sessions use the Shape Lab while trainings run.

Two kinds of client, chosen with ``--client``:

* ``ws`` (default): headless protocol clients (bench/st_client.py). Each holds its own
  Streamlit session over the app's websocket, as a tab does, but renders nothing, so the
  figure is the server's answer: from sending the new widget value to receiving the output
  shape for it. The two trainings are started and watched the same way (their live panels
  refresh through ``run_every``, as in an open tab).
* ``browser``: one Chromium context per session, timed from the key press to the new number
  on screen. On one 2-core machine the browsers' own drawing competes with the server, so
  this measures the machine, not the server.

Each session types a height of its own into the Shape Lab; the same value doubles as the
isolation check: a session that ever shows another session's number fails.

    python bench/bench_load.py [--client ws|browser] [--sessions 10] [--interactions 10]
                               [--trainings 2] [--think 0.2]
    python bench/bench_load.py --classroom 2 --ray-cpus 1 --sessions 40 --trainings 2

``--classroom N`` measures deploy/classroom.py instead of one server: N replicas behind
HAProxy (sessions spread by least connections), the trainings on a local Ray cluster of
``--ray-cpus`` CPUs, all on this machine.

Prints the median and 95th percentile of the interaction times, and whether every session only
ever saw its own state. Also used by tests/test_load.py (correctness only, never timing).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
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
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core import shapes  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)   # seconds, one per interaction
    filter_latencies: list[float] = field(default_factory=list)  # the Filter Lab's, if any
    wrong_state: list[str] = field(default_factory=list)   # sessions that saw another's value
    failures: list[str] = field(default_factory=list)      # interactions that never answered
    finished: list[float] = field(default_factory=list)    # seconds to the run's end (ws)
    trainings_started: int = 0
    trainings_progressed: int = 0
    trainings_stopped: int = 0
    live_refreshes: list[float] = field(default_factory=list)  # trainers' refreshes per second
    exceptions: list[str] = field(default_factory=list)     # tracebacks a page showed (ws)

    def summary(self) -> str:
        every = self.latencies + self.filter_latencies
        if not every:
            return "no interaction answered"
        lines = [f"{len(every)} interactions, answer: {_spread(every)}"]
        if self.filter_latencies:
            lines.append(f"  Shape Lab ({len(self.latencies)}): {_spread(self.latencies)}")
            lines.append(f"  Filter Lab ({len(self.filter_latencies)}): "
                         f"{_spread(self.filter_latencies)}")
        if self.finished:
            lines.append(f"  whole page run: {_spread(self.finished)}")
        lines.append(f"wrong state seen: {len(self.wrong_state)}; unanswered: "
                     f"{len(self.failures)}; tracebacks: {len(self.exceptions)}; "
                     f"trainings started {self.trainings_started}, "
                     f"progressing {self.trainings_progressed}, "
                     f"stopped at the end {self.trainings_stopped}")
        if self.live_refreshes:
            lines.append("trainers' live panels refreshed "
                         + ", ".join(f"{r:.2f}" for r in self.live_refreshes)
                         + " times per second during the lab phase")
        return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _spread(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.0f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")


def expected_shape_text(height: int) -> str:
    """The Shape Lab's defaults (3-wide input, 2×2 kernel, stride 1, VALID, 1 filter)."""
    out = shapes.conv_output_shape((height, 3, 1), 1, 2, 1, "valid")
    return " × ".join(str(v) for v in out)


async def _start_training(browser, url: str, examples: int, epochs: int, result: LoadResult):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(url + "/training")
    await page.get_by_label("Training examples", exact=True).fill(str(examples))
    await page.get_by_label("Epochs", exact=True).fill(str(epochs))
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


async def run_browser_load(url: str, sessions: int = 10, interactions: int = 10, trainings: int = 2,
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
                result.trainings_stopped += 1
            except Exception:  # noqa: BLE001 - the run may have finished already
                pass
            await context.close()
        await browser.close()
    return result

# ----------------------------------------------------------------------------- websocket clients

METRIC = "Output shape H′ × W′ × C′"
# The Filter Lab's pipeline line: "input 300×451 → conv 5×5 stride 2 padding SAME → 150×226×1 …"
# (SAME as TensorFlow writes it since the page is translated; "same" before).
PIPELINE = re.compile(r"input (\d+)×(\d+) → conv (\d+)×(\d+) stride (\d+) padding "
                      r"(?:same|SAME) → (\d+)×(\d+)×1")


def _pipeline_line(session) -> Optional[re.Match]:
    for kind, proto in list(session.elements.values()):
        if kind == "markdown":
            found = PIPELINE.search(proto.body)
            if found:
                return found
    return None


def _thinker(index: int, think: float):
    """Seconds a person looks at an answer before the next change: uniform in [0.5, 1.5] x
    ``think``, seeded per session. Independent pauses, as independent people take; equal ones
    would keep all sessions sending in the same instant and time a burst instead."""
    rng = random.Random(index)
    return lambda: think * rng.uniform(0.5, 1.5)


async def _ws_trainer(url: str, examples: int, epochs: int, result: LoadResult):
    from bench.st_client import StreamlitSession

    session = StreamlitSession(url, "training", f"train_examples={examples}&epochs={epochs}")
    await session.open(timeout=180)
    session.set_widget("Start training", True)
    await session.rerun(timeout=180)
    if "job=" in session.query_string:
        result.trainings_started += 1
    return session


async def _ws_wait_for_batches(session, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if any(re.search(r"epoch \d+/\d+, batch [1-9]", p.text) for p in session.find("progress")):
            return True
        await asyncio.sleep(0.5)
    return False


async def _ws_stop(trainer, timeout: float = 90) -> bool:
    """Press Stop on a watched run; True once its page no longer offers Stop (run over)."""
    def offers_stop():
        return any(kind == "button" and proto.label == "Stop"
                   for kind, proto in list(trainer.elements.values()))

    if offers_stop():
        trainer.set_widget("Stop", True)
        await trainer.rerun(timeout=60)
    deadline = time.perf_counter() + timeout
    while offers_stop() and time.perf_counter() < deadline:
        await asyncio.sleep(1)
        await trainer.rerun(timeout=60)
    return not offers_stop()


async def _ws_lab_session(url: str, index: int, interactions: int, think: float,
                          result: LoadResult, answer_timeout: float) -> None:
    from bench.st_client import StreamlitSession

    session = StreamlitSession(url, "shape_lab")
    await session.open(timeout=answer_timeout)
    pause = _thinker(index, think)
    await asyncio.sleep(pause() / 2)   # people do not all start typing at the same moment
    for k in range(interactions):
        height = 10 + index * 40 + k   # distinct per session and step, as in the browser run
        expected = expected_shape_text(height)
        session.set_widget("Input height H", height)
        try:
            run = await session.rerun(
                until=lambda s, expected=expected: s.metric(METRIC) == expected,
                timeout=answer_timeout)
        except TimeoutError:
            result.failures.append(f"session {index} step {k}: no answer")
            continue
        seen = session.metric(METRIC)
        if run.answered is None:
            result.failures.append(f"session {index} step {k}: wanted {expected}, saw {seen}")
            continue
        result.latencies.append(run.answered)
        result.finished.append(run.finished)
        if seen != expected:
            result.wrong_state.append(f"session {index}: wanted {expected}, saw {seen}")
        await asyncio.sleep(pause())
    result.exceptions.extend(f"session {index}: {e}" for e in session.exceptions)
    await session.close()


async def _ws_filter_session(url: str, index: int, interactions: int, think: float,
                             result: LoadResult, answer_timeout: float) -> None:
    """A Filter Lab user changing the conv stride on the bundled photo; the answer is the
    pipeline line with the new output size (checked against playground.core.shapes)."""
    from bench.st_client import StreamlitSession

    session = StreamlitSession(url, "filter_lab")
    await session.open(timeout=answer_timeout)
    first = _pipeline_line(session)
    if first is None:
        result.failures.append(f"filter session {index}: no pipeline line on the page")
        await session.close()
        return
    h, w, kh, kw = (int(first.group(i)) for i in range(1, 5))
    pause = _thinker(index, think)
    await asyncio.sleep(pause() / 2)
    for k in range(interactions):
        stride = 2 + (index + k) % 4   # 2..5, never the page's default 1
        out_h, out_w, _ = shapes.conv_output_shape((h, w, 1), 1, (kh, kw), stride, "same")

        def shows_it(s, stride=stride, out=(out_h, out_w)):
            line = _pipeline_line(s)
            return (line is not None and int(line.group(5)) == stride
                    and (int(line.group(6)), int(line.group(7))) == out)

        session.set_widget("Stride", stride)
        try:
            run = await session.rerun(until=shows_it, timeout=answer_timeout)
        except TimeoutError:
            result.failures.append(f"filter session {index} step {k}: no answer")
            continue
        if run.answered is None:
            line = _pipeline_line(session)
            result.failures.append(f"filter session {index} step {k}: wanted stride {stride} "
                                   f"→ {out_h}×{out_w}, saw {line and line.group(0)}")
            continue
        result.filter_latencies.append(run.answered)
        result.finished.append(run.finished)
        await asyncio.sleep(pause())
    result.exceptions.extend(f"filter session {index}: {e}" for e in session.exceptions)
    await session.close()


async def run_ws_load(url: str, sessions: int = 10, interactions: int = 10, trainings: int = 2,
                      train_examples: int = 3000, epochs: int = 30, think: float = 0.2,
                      answer_timeout: float = 60, filter_sessions: int = 3) -> LoadResult:
    """``sessions`` headless clients, ``filter_sessions`` of them on the Filter Lab and the rest
    on the Shape Lab, while ``trainings`` runs train and their pages are watched."""
    result = LoadResult()
    trainers = [await _ws_trainer(url, train_examples, epochs, result)
                for _ in range(trainings)]
    for trainer in trainers:
        result.trainings_progressed += await _ws_wait_for_batches(trainer, 180)
    before = [t.fragment_runs for t in trainers]
    t0 = time.perf_counter()
    filter_sessions = min(filter_sessions, sessions)
    await asyncio.gather(*[
        (_ws_filter_session if i < filter_sessions else _ws_lab_session)(
            url, i, interactions, think, result, answer_timeout)
        for i in range(sessions)])
    elapsed = time.perf_counter() - t0
    result.live_refreshes = [(t.fragment_runs - b) / elapsed for t, b in zip(trainers, before)]
    for trainer in trainers:
        result.exceptions.extend(f"trainer: {e}" for e in trainer.exceptions)
        try:
            result.trainings_stopped += await _ws_stop(trainer)
        finally:
            await trainer.close()
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(runs_dir: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
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
    parser.add_argument("--filter-sessions", type=int, default=3,
                        help="how many of the ws sessions use the Filter Lab (the rest: Shape Lab)")
    parser.add_argument("--interactions", type=int, default=10)
    parser.add_argument("--trainings", type=int, default=2)
    parser.add_argument("--client", choices=("ws", "browser"), default="ws")
    parser.add_argument("--think", type=float, nargs="+", default=[1.0, 0.2],
                        help="seconds a ws session waits after each answer; several values "
                             "run one after another on the same server (browser: 0.2)")
    parser.add_argument("--classroom", type=int, default=0, metavar="REPLICAS",
                        help="ws: N app replicas behind HAProxy, trainings on a local Ray "
                             "cluster (deploy/classroom.py) instead of one server")
    parser.add_argument("--ray-cpus", type=int, default=1,
                        help="--classroom: CPUs of the local Ray cluster for trainings")
    parser.add_argument("--no-baseline", action="store_true",
                        help="ws: skip the same sessions without trainings before each run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        classroom = None
        if args.classroom:
            sys.path.insert(0, str(ROOT / "deploy"))
            from classroom import Classroom
            classroom = Classroom(replicas=args.classroom, port=_free_port(),
                                  ray_cpus=args.ray_cpus, runs_dir=runs_dir, bind="127.0.0.1")
            classroom.__enter__()
            proc, url = classroom.proxy, classroom.url
            print(f"classroom: {args.classroom} replicas behind HAProxy, trainings on Ray "
                  f"({args.ray_cpus} CPUs)")
        else:
            proc, url = start_server(runs_dir)
        try:
            print(f"{args.client} clients, {os.cpu_count()} cores, load generator on the same "
                  "machine")
            if args.client == "browser":
                result = asyncio.run(run_browser_load(url, args.sessions, args.interactions,
                                                      args.trainings))
                _report(f"{args.sessions} browser sessions x {args.interactions}, "
                        f"{args.trainings} trainings", result)
            for think in args.think if args.client == "ws" else []:
                medians = []
                for trainings in ([] if args.no_baseline else [0]) + [args.trainings]:
                    result = asyncio.run(run_ws_load(
                        url, args.sessions, args.interactions, trainings, think=think,
                        filter_sessions=args.filter_sessions))
                    _report(f"{args.sessions} sessions ({args.filter_sessions} Filter Lab) x "
                            f"{args.interactions} interactions, think {think:g} s, "
                            f"{trainings} trainings watched", result)
                    medians.append(statistics.median(result.latencies + result.filter_latencies))
                if len(medians) == 2:
                    print(f"  -> trainings cost: median x{medians[1] / medians[0]:.2f} "
                          f"against the same sessions without them\n")
            print("server still up at the end:", proc.poll() is None)
        finally:
            if classroom is not None:
                classroom.close()
            else:
                stop_server(proc)


def _report(title: str, result: LoadResult) -> None:
    print(title)
    print("  " + result.summary().replace("\n", "\n  "))
    for line in (result.wrong_state + result.failures + result.exceptions)[:10]:
        print("    !", line)


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
