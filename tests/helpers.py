"""Helpers the tests import: paths, AppTest and Chromium set-up, an asyncio runner.

Fixtures live in conftest.py; everything a test module imports lives here, so that there is one
module object (importing conftest from a test made a second copy, ``conftest`` next to
``tests.conftest``).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "playground" / "app.py"
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

# The tiny network the training tests train in seconds: two conv layers (a multi-channel
# kernel), both pooling kinds, a softmax head. 2,432 parameters.
TINY = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": "valid",
     "activation": "relu"},
    {"type": "AveragePool2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]}


def app_test(page: str | None = None, timeout: float = 60, query: dict | None = None):
    """An AppTest of the entry script, opened with ``query`` in its address, switched to
    ``pages/<page>.py`` and run once."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
        at.run()
    return at


def run_async(coroutine):
    """asyncio.run on a thread of its own: once a browser test has run, the session's sync
    Playwright fixtures keep an event loop running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_app(tab, timeout: float = 30_000):
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    tab.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')", timeout=timeout)
