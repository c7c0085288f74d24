"""The server stops while a training runs, on a real `streamlit run` server.

* SIGTERM to the server alone (Ctrl+C, systemd, a redeploy): the run stops, is saved and says
  why; a new server shows it and can test it.
* SIGKILL to the server and its worker at the moment a checkpoint is half written (caught by
  its temp file): every saved file is the previous whole one, the model opens in safe mode, and
  a new server marks the run interrupted, removes the half-written temp file and explains it.

The runs are driven over the app's own websocket protocol (bench/st_client.py), as a tab would.
"""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from bench.bench_load import start_server, stop_server
from bench.st_client import StreamlitSession
from playground.core import runs
from playground.training import jobs
from playground.training.results import saved_run
from tests.helpers import TINY, run_async

pytestmark = pytest.mark.slow

# One batch per epoch: a run of these spends most of its time writing checkpoints.
TINY_RUN = {"train_examples": 100, "batch_size": 100, "epochs": 200, "validation_split": 0}


async def _start_run(url: str) -> str:
    """Open the Training page with the tiny network in the address, press Start: the run id."""
    query = "&".join([f"spec={json.dumps(TINY, separators=(',', ':'))}"]
                     + [f"{key}={value}" for key, value in TINY_RUN.items()])
    session = StreamlitSession(url, "training", query)
    try:
        await session.open(timeout=180)
        assert not session.exceptions
        session.set_widget("Start training", True)
        await session.rerun(timeout=180)
        assert "job=" in session.query_string, [a.body for a in session.find("alert")]
        return session.query_string.split("job=")[1].split("&")[0]
    finally:
        await session.close()


async def _page_text(url: str, run_id: str) -> tuple[str, list[str], list[str]]:
    """What a refreshed tab at ``training?job=<id>`` shows: markdown text, button labels and
    tracebacks."""
    session = StreamlitSession(url, "training", f"job={run_id}")
    try:
        await session.open(timeout=180)
        text = "\n".join(p.body for p in session.find("markdown") + session.find("alert"))
        buttons = [p.label for p in session.find("button")]
        return text, buttons, session.exceptions
    finally:
        await session.close()


def _status(run_id: str) -> dict:
    return runs.read_json(runs.run_path(run_id) / "status.json") or {}


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(0.05)


def _assert_saved_run_opens(run_id: str) -> dict:
    keras = pytest.importorskip("keras")
    folder = runs.run_path(run_id)
    saved = saved_run(run_id)
    model = keras.models.load_model(folder / "model.keras", safe_mode=True)
    assert model.count_params() == (4 * 9 + 4) + (3 * 3 * 4 * 6 + 6) + (6 * 6 * 6 * 10 + 10)
    # every file is whole: JSON parses, each CSV row has every column
    for name in ("settings.json", "status.json", "summary.json"):
        json.loads((folder / name).read_text())
    assert saved["settings"]["spec"]["layers"][0]["filters"] == 4
    assert saved["epoch_log"] and all(row["loss"] is not None for row in saved["epoch_log"])
    assert saved["batch_log"]
    return saved


def test_server_sigterm_stops_the_run_saves_it_and_a_new_server_shows_it():
    proc, url = start_server(str(runs.runs_dir()))
    try:
        run_id = run_async(_start_run(url))
        _wait(lambda: _status(run_id).get("epochs_done", 0) >= 2, 240, "two epochs done")
        os.kill(proc.pid, signal.SIGTERM)   # the server process alone, as `kill <pid>` does
        proc.wait(timeout=120)
        _wait(lambda: _status(run_id).get("status") not in jobs.ACTIVE, 60, "the run ended")
    finally:
        if proc.poll() is None:
            stop_server(proc)
    status = _status(run_id)
    assert status["status"] == "stopped", status
    assert "server" in status["reason"], status        # "the server shut down (signal ...)"
    saved = _assert_saved_run_opens(run_id)
    assert len(saved["epoch_log"]) == status["epochs_done"] >= 2
    assert not [p.name for p in runs.run_path(run_id).glob(".*")]   # no temp files left

    proc, url = start_server(str(runs.runs_dir()))
    try:
        text, buttons, exceptions = run_async(_page_text(url, run_id))
    finally:
        stop_server(proc)
    assert exceptions == []
    assert f"Run `{run_id}`" in text and "stopped" in text and status["reason"] in text
    assert "Evaluate on the 10,000 test digits" in buttons   # the saved model can be tested


def test_server_killed_in_the_middle_of_a_checkpoint_leaves_every_saved_run_openable():
    proc, url = start_server(str(runs.runs_dir()))
    partial = []
    try:
        run_id = run_async(_start_run(url))
        folder = runs.run_path(run_id)
        _wait(lambda: _status(run_id).get("epochs_done", 0) >= 2, 240, "two epochs done")

        def model_being_written():
            partial[:] = [p.name for p in folder.glob(".*") if p.name.startswith(".model")]
            return bool(partial)
        _wait(model_being_written, 60, "a checkpoint in progress")
        os.killpg(proc.pid, signal.SIGKILL)   # server and training worker, mid-save
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert partial, "the kill did not land during a save"
    assert set(partial) <= {p.name for p in folder.glob(".*")}, "the temp file was left"
    assert _status(run_id)["status"] == "running"    # nobody could say otherwise
    saved = _assert_saved_run_opens(run_id)           # the previous checkpoint, whole
    done = _status(run_id)["epochs_done"]

    proc, url = start_server(str(runs.runs_dir()))
    try:
        text, buttons, exceptions = run_async(_page_text(url, run_id))
    finally:
        stop_server(proc)
    status = _status(run_id)
    assert status["status"] == "interrupted"
    assert status["reason"] == ("the server stopped while this run was active. The model "
                                f"saved at the end of epoch {done} was kept.")
    assert exceptions == [] and f"Run `{run_id}`" in text and status["reason"] in text
    assert "Evaluate on the 10,000 test digits" in buttons
    assert not [p.name for p in folder.glob(".*")], "partial files were not cleaned up"
    assert len(saved["epoch_log"]) >= done
    assert saved_run(run_id)["has_model"]
