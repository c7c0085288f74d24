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

# The trained model every Inspector and upload test shares (conftest's tiny_model_file).
TINY_PRESET = "Course CNN (2 conv)"


def train_tiny_model(n_train: int = 600):
    """The course CNN after one epoch on ``n_train`` MNIST digits (a few seconds on 2 cores)."""
    import keras
    import numpy as np

    from playground.datasets import mnist
    from playground.training import models

    keras.utils.set_random_seed(0)
    (x_train, y_train), _ = mnist.load_mnist()
    x = x_train[:n_train].astype(np.float32)[..., None] / 255.0
    model = models.build_model(TINY_PRESET)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y_train[:n_train], batch_size=50, epochs=1, verbose=0)
    return model


def save_run(model_file: Path, folder: Path, run_id: str = "20261122-120000-abcdef") -> str:
    """Put a saved model into ``folder`` with runs.py's layout: <run_id>/model.keras + json."""
    from playground.core import runs

    run_folder = folder / run_id
    run_folder.mkdir(parents=True, exist_ok=True)
    runs.atomic_write_bytes(run_folder / "model.keras", Path(model_file).read_bytes())
    runs.write_json(run_folder / "settings.json", {"preset": TINY_PRESET, "epochs": 1})
    runs.write_json(run_folder / "status.json", {"status": "finished", "test_accuracy": 0.8})
    return run_id


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
