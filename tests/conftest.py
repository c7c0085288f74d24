"""Shared fixtures: AppTest helpers, and a real `streamlit run` server driven by Chromium.

Browser tests use Debian's /usr/bin/chromium through Playwright (no browser download). Where no
Chromium is installed they are skipped with the reason, except in CI (CI=true), where a missing
browser is a failure.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import APP, CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, train_tiny_model

# TensorFlow's oneDNN kernels (on by default on CPUs with AVX-512 or AMX) answer a convolution
# or pooling whose window does not fit the padded input with a full-size output of
# uninitialised memory instead of an error or an empty output (TF 2.21: a 7x7 input, a 4x2
# kernel with dilation 3 and 1 pixel of padding gives 7x7 denormals; the reference kernels give
# 0x6). The reference the tests compare against is TensorFlow's own kernels, on every machine.
# Set before anything imports TensorFlow; servers and workers started by tests inherit it.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

@pytest.fixture(autouse=True)
def _isolated_runs_dir(tmp_path_factory, monkeypatch):
    """Every test saves training runs under its own temporary folder, never in the repo."""
    if "PLAYGROUND_RUNS_DIR" not in os.environ or os.environ.get("PLAYGROUND_TEST_RUNS"):
        path = tmp_path_factory.mktemp("runs")
        monkeypatch.setenv("PLAYGROUND_RUNS_DIR", str(path))
        monkeypatch.setenv("PLAYGROUND_TEST_RUNS", "1")


def _need_chromium():
    if Path(CHROMIUM).exists():
        return
    reason = f"no Chromium at {CHROMIUM} (install Debian's 'chromium' to run browser tests)"
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: " + reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_runs_dir(tmp_path_factory) -> Path:
    """The runs folder the browser-test server saves to (tests may put saved runs there)."""
    return tmp_path_factory.mktemp("server_runs")


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory, server_runs_dir):
    """Base URL of `streamlit run playground/app.py` on a free loopback port (one per session)."""
    _need_chromium()
    port = free_port()
    env = dict(os.environ)
    env["PLAYGROUND_RUNS_DIR"] = str(server_runs_dir)
    log = open(tmp_path_factory.mktemp("server_log") / "streamlit.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.seek(0)
            pytest.fail("streamlit did not start:\n" + log.read()[-3000:])
        time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, streamlit_server):
    """A fresh browser page (new context: new Streamlit session) on the running app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """The course CNN trained for one epoch on 600 digits, saved once for the whole session."""
    path = tmp_path_factory.mktemp("tiny_model") / "model.keras"
    train_tiny_model().save(path)
    return path
