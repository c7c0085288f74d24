"""Training jobs in real spawned processes (the local backend): lifecycle, re-attach, cap and
queue, a killed worker. The viewer time-out and bad settings run on both backends in
tests/test_ray_backend.py. Tiny slices and a tiny network keep each run to seconds."""
from __future__ import annotations

import os
import signal
import time

import pytest

from playground.core import runs
from playground.training import jobs, results
from playground.training import settings as training_settings
from tests.helpers import TINY

pytestmark = pytest.mark.slow


def tiny_settings(**extra):
    raw = dict(preset=training_settings.CUSTOM, spec=TINY, train_examples=300, epochs=3,
               batch_size=10,
               validation_split=0.1, seed=1, test_examples=300, snapshot_interval=0.1,
               stats_every=5, learning_rate=0.005)
    raw.update(extra)
    return raw


def wait_until(registry, predicate, timeout=300.0, touch=()):
    deadline = time.time() + timeout
    while time.time() < deadline:
        registry.poll()
        for job in touch:
            job.touch()
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def samples(job):
    return job.latest.samples_seen if job.latest is not None else 0


@pytest.fixture
def registry():
    reg = jobs.Registry(max_runs=2, viewer_timeout=120)
    yield reg
    reg.shutdown(timeout=60)


def test_start_pause_resume_change_rate_stop_reattach_and_reopen(registry):
    keras = pytest.importorskip("keras")
    job = registry.start(tiny_settings(epochs=50))
    assert (job.folder / "settings.json").is_file()
    wait_until(registry, lambda: samples(job) >= 50, touch=[job])
    assert job.state == "running"

    job.pause()
    wait_until(registry, lambda: job.state == "paused", timeout=60, touch=[job])
    time.sleep(0.3)
    registry.poll()
    frozen = samples(job)
    time.sleep(1.0)
    registry.poll()
    assert samples(job) == frozen, "a paused run must not train"

    job.set_learning_rate(0.0123)
    wait_until(registry, lambda: any("0.0123" in m for m in job.messages), timeout=60,
               touch=[job])
    job.resume()
    wait_until(registry, lambda: samples(job) > frozen + 20, timeout=120, touch=[job])
    assert job.latest.learning_rate == pytest.approx(0.0123)

    # A refreshed page finds the same job by the id in its URL.
    assert registry.get(job.run_id) is job

    job.stop()
    wait_until(registry, lambda: not job.active, timeout=120, touch=[job])
    assert job.final["status"] == "stopped"
    assert job.final["reason"] == "stopped by the user"
    saved = results.saved_run(job.run_id)
    assert saved["has_model"] and saved["epoch_log"] and saved["batch_log"]
    assert saved["epoch_log"][-1]["learning_rate"] == pytest.approx(0.0123)
    model = keras.models.load_model(job.folder / "model.keras", safe_mode=True)
    assert model.count_params() == (4 * 9 + 4) + (3 * 3 * 4 * 6 + 6) + (6 * 6 * 6 * 10 + 10)
    assert results.run_test_probabilities(job.run_id).shape == (300, 10)
    assert job.run_id in [row["run"] for row in results.saved_runs_table()]


def test_a_third_run_waits_for_a_free_slot(registry):
    first = registry.start(tiny_settings(epochs=50))
    second = registry.start(tiny_settings(epochs=50))
    third = registry.start(tiny_settings(epochs=1))
    registry.poll()
    assert [first.state != "queued", second.state != "queued"] == [True, True]
    assert third.state == "queued" and third.queue_position == 1
    assert "number 1 in the queue" in third.describe()
    assert (runs.read_json(third.folder / "status.json") or {})["status"] == "queued"
    first.stop()
    wait_until(registry, lambda: third.process is not None, timeout=300,
               touch=[first, second, third])
    assert not first.active and first.final["status"] == "stopped"
    assert len(registry.running()) == 2
    second.stop()  # the machine has two cores: let the third run alone
    wait_until(registry, lambda: not third.active, timeout=300, touch=[second, third])
    assert third.final["status"] == "finished"


def test_a_killed_worker_is_reported_and_its_saved_model_still_opens(registry):
    keras = pytest.importorskip("keras")
    job = registry.start(tiny_settings(epochs=50, train_examples=100))
    wait_until(registry, lambda: (runs.read_json(job.folder / "status.json") or {})
               .get("epochs_done", 0) >= 2, touch=[job])
    os.kill(job.process.pid, signal.SIGKILL)
    wait_until(registry, lambda: not job.active, timeout=120, touch=[job])
    assert job.final["status"] == "died"
    assert "SIGKILL" in job.final["reason"] and "kept" in job.final["reason"]
    assert "died" in job.describe()
    status = runs.read_json(job.folder / "status.json")
    assert status["status"] == "died"
    model = keras.models.load_model(job.folder / "model.keras", safe_mode=True)
    assert model.count_params() > 0
    assert len(results.saved_run(job.run_id)["epoch_log"]) >= 2


# A run nobody watches, and bad settings: tests/test_ray_backend.py runs them on both backends.


def test_interrupted_runs_of_a_dead_server_are_marked_on_start():
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "status.json", {"status": "running", "pid": 2**22 + 12345,
                                             "host": os.uname().nodename})
    jobs.Registry()
    assert runs.read_json(folder / "status.json")["status"] == "interrupted"


def test_a_zombie_worker_counts_as_dead():
    # A worker killed together with its server stays a zombie until init reaps it; a new
    # server must still see its run as interrupted.
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "pass"])   # not reaped until wait()
    deadline = time.time() + 30
    while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.time() < deadline
        time.sleep(0.01)
    assert jobs._pid_alive(os.getpid())
    assert not jobs._pid_alive(child.pid)
    child.wait()
    assert not jobs._pid_alive(child.pid)
    assert not jobs._pid_alive("not a pid") and not jobs._pid_alive(None)
