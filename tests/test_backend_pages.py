"""The backend as the pages meet it: a Ray address that is malformed or unreachable gives one
line on the Training and Teacher pages (no traceback, no minutes-long wait, saved runs still
open, asked again after a while), and a learner's typed name reaches the teacher's board."""
from __future__ import annotations

import socket
import time

import pytest

from playground.core import runs
from playground.teacher import access, board
from playground.training import backends, jobs
from tests.helpers import app_test

PASSWORD = "a long classroom password"


def closed_port() -> int:
    """A port on this machine that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def saved_run(learner: str = "") -> str:
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "settings.json", {"preset": "Fast MNIST CNN", "dataset": "mnist",
                                               "epochs": 1})
    runs.write_json(folder / "status.json", {"status": "finished", "epochs_done": 1,
                                             "test_accuracy": 0.95})
    board.save_learner(folder, learner)
    return run_id


@pytest.fixture
def unreachable(monkeypatch):
    """This server configured for a Ray cluster whose port is closed; a backend of its own."""
    address = f"ray://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", address)
    monkeypatch.setattr(backends, "_SHARED", None)
    return address


@pytest.mark.parametrize("address", [
    "nonsense", "ray://127.0.0.1:{port}", "127.0.0.1:{port}", "ray://127.0.0.1:notaport",
    "http://[::1", "ray://:10001"])
def test_a_bad_or_unreachable_ray_address_is_one_line_not_a_long_wait(address, monkeypatch):
    address = address.format(port=closed_port())
    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", address)
    began = time.monotonic()
    backend = backends.make_registry()
    # Not a speed figure: Ray alone waits 30 s on a ray:// address and minutes on a GCS
    # host:port; the probe must answer well before either.
    assert time.monotonic() - began < 20
    assert isinstance(backend, backends.Unreachable)
    assert backend.problem.startswith(f"The Ray cluster at {address} cannot be reached (")
    assert "\n" not in backend.problem
    assert backend.jobs() == [] and backend.get("20261203-000000-abcdef") is None
    with pytest.raises(ValueError, match="cannot be reached"):
        backend.start({})


def test_the_training_page_says_it_in_one_line_and_saved_runs_still_open(unreachable):
    run_id = saved_run()
    at = app_test("training")
    assert not at.exception
    assert [e.value for e in at.error] == [backends.shared_registry().problem]
    assert unreachable in at.error[0].value
    next(b for b in at.button if b.label == "Start training").click()
    at.run()
    assert not at.exception
    assert any(e.value.startswith("Cannot start: The Ray cluster at") for e in at.error)
    assert "job" not in at.query_params
    opened = app_test("training", query={"job": run_id})   # a saved run opens from its files
    assert not opened.exception
    assert any(f"Run `{run_id}`" in m.value for m in opened.markdown)


def test_the_line_is_in_the_readers_language(unreachable):
    at = app_test("training", query={"lang": "ko"})
    assert not at.exception
    assert "Ray 클러스터에 연결할 수 없습니다" in at.error[0].value
    assert unreachable in at.error[0].value


def test_an_unreachable_cluster_is_asked_again_after_a_while(unreachable, monkeypatch):
    first = backends.shared_registry()
    assert isinstance(first, backends.Unreachable)
    assert backends.shared_registry() is first          # not asked again at once
    monkeypatch.delenv("PLAYGROUND_RAY_ADDRESS")       # "the cluster is back" (here: local)
    monkeypatch.setattr(backends, "_FAILED_AT", time.monotonic() - backends.RETRY_AFTER - 1)
    again = backends.shared_registry()
    assert isinstance(again, jobs.Registry)
    again.shutdown()


def test_the_teacher_board_shows_the_line_and_the_saved_runs(unreachable, monkeypatch):
    monkeypatch.setenv(access.ENV, PASSWORD)
    saved_run("Ji-woo")
    at = app_test("teacher")
    at.text_input(key="teacher_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [backends.shared_registry().problem]
    assert list(at.dataframe[0].value["Learner"]) == ["Ji-woo"]


@pytest.mark.slow
def test_the_name_typed_on_the_training_page_is_saved_with_the_run(monkeypatch):
    monkeypatch.setenv(access.ENV, PASSWORD)
    monkeypatch.delenv("PLAYGROUND_RAY_ADDRESS", raising=False)
    monkeypatch.setattr(backends, "_SHARED", None)   # a server of its own, shut down below
    at = app_test("training", query={"train_examples": "200", "epochs": "1",
                                     "batch_size": "50"})
    at.text_input(key="learner").input("  Seo-yeon\x00 Park ")
    next(b for b in at.button if b.label == "Start training").click()
    at.run()
    try:
        assert not at.exception
        run_id = at.query_params["job"]
        run_id = run_id[0] if isinstance(run_id, list) else run_id
        assert board.learner_of(runs.run_path(run_id)) == "Seo-yeon Park"
        rows = board.all_rows(backends.shared_registry())
        assert [r["learner"] for r in rows if r["run_id"] == run_id] == ["Seo-yeon Park"]
    finally:
        backends.shared_registry().shutdown(timeout=30)
