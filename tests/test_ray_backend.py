"""The Ray backend on a real Ray cluster started here (a head with no CPUs and one worker node
of 1 CPU, each its own process group): the queue as pending actors, pause / resume / a new
learning rate / stop, a restarted server re-attaching by the actor's name, the viewer
time-out, a run stopped in the queue, and a node killed mid-run (reported with the epoch whose
model was kept). The same page API as the local backend (tests/test_training_jobs.py, whose
helpers these tests reuse)."""
from __future__ import annotations

import time

import pytest

from playground.core import runs
from playground.training import backends, jobs, results
from tests.helpers import app_test
from tests.test_training_jobs import samples, tiny_settings, wait_until

ray = pytest.importorskip("ray")
ray_backend = pytest.importorskip("playground.training.ray_backend")
from tests.ray_cluster import LocalCluster, wait_for_head  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    cluster = LocalCluster()
    try:
        wait_for_head(cluster)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def node(cluster):
    """A worker node of 1 CPU: one run trains at a time, the next is a pending actor."""
    if not any(n.poll() is None for n in cluster.nodes):
        cluster.add_node(num_cpus=1)
    return cluster


def epochs_done(job) -> int:
    return (runs.read_json(job.folder / "status.json") or {}).get("epochs_done", 0)


def test_the_backend_is_chosen_by_the_ray_address(monkeypatch, node):
    monkeypatch.delenv("PLAYGROUND_RAY_ADDRESS", raising=False)
    assert type(backends.make_registry()) is jobs.Registry
    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", f" {node.address} ")
    registry = backends.make_registry()
    assert type(registry) is ray_backend.RayRegistry and registry.address == node.address


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_both_backends_give_the_page_the_same_api(backend, cluster):
    registry = jobs.Registry() if backend == "local" else ray_backend.RayRegistry(
        cluster.address)
    job_class = jobs.Job if backend == "local" else ray_backend.RayJob
    for name in ("start", "get", "jobs", "live_snapshot", "poll", "shutdown", "max_runs",
                 "viewer_timeout"):
        assert hasattr(registry, name), name
    for name in ("touch", "pause", "resume", "stop", "set_learning_rate", "describe", "state",
                 "active", "folder"):
        assert hasattr(job_class, name), name
    # Bad settings start nothing, on either backend.
    with pytest.raises(ValueError, match="epochs must be in"):
        registry.start(tiny_settings(epochs=0))
    assert registry.jobs() == [] and list(runs.runs_dir().iterdir()) == []
    assert registry.get("../../etc/passwd") is None and registry.get(runs.new_run_id()) is None


@pytest.fixture(params=["local", "ray"])
def backend(request):
    """A fresh registry of each backend with an 8 s viewer time-out: the job tests that apply
    to both run on both (the others are each backend's own: the local cap and queue, a killed
    worker process, in tests/test_training_jobs.py; pending actors, re-attach by name and a
    killed node here)."""
    if request.param == "local":
        registry = jobs.Registry(max_runs=2, viewer_timeout=8)
    else:
        node = request.getfixturevalue("node")
        registry = ray_backend.RayRegistry(node.address, viewer_timeout=8)
        node.wait_for_cpus(1)
    yield registry
    registry.shutdown(timeout=60)


def test_a_run_nobody_watches_stops_by_itself(backend):
    job = backend.start(tiny_settings(epochs=200, train_examples=100))
    wait_until(backend, lambda: samples(job) > 0, timeout=120, touch=[job])   # it trains
    wait_until(backend, lambda: not job.active, timeout=300)  # never touched again
    assert job.final["status"] == "stopped"
    assert "viewer time-out" in job.final["reason"]
    assert (job.folder / "model.keras").is_file()


def test_bad_settings_start_nothing(backend):
    for bad, named in [(dict(epochs=0), "epochs must be in"),
                       (dict(spec={"layers": "not a list"}), "input_shape"),
                       (dict(batch_size="many"), "batch_size")]:
        with pytest.raises(ValueError, match=named):
            backend.start(tiny_settings(**bad))
    assert backend.jobs() == [] and list(runs.runs_dir().iterdir()) == []


def test_a_replica_that_adopts_a_waiting_run_does_not_end_it_for_want_of_a_viewer(cluster):
    """Two app replicas on one cluster: the one whose learner started the run ends it when its
    page stops looking; the other adopts it (it lists every run) but never watched it, so
    it must not end it while the learner's page, on the first replica, still looks."""
    mine = ray_backend.RayRegistry(cluster.address, viewer_timeout=3, num_cpus=64)
    other = ray_backend.RayRegistry(cluster.address, viewer_timeout=1)
    job = mine.start(tiny_settings(epochs=1))   # 64 CPUs: it waits as a pending actor
    other._adopted = 0.0                          # look for other replicas' runs now
    other.poll()
    adopted = next(j for j in other.jobs() if j.run_id == job.run_id)
    assert adopted.state == "queued" and not adopted.watched_here
    deadline = time.time() + 4
    while time.time() < deadline:   # the other replica polls well past its 1 s time-out
        job.touch()
        mine.poll()
        other.poll()
        time.sleep(0.2)
    assert adopted.final is None and job.final is None and job.state == "queued"
    # The learner's page goes away: the replica it was on ends the run.
    wait_until(mine, lambda: job.final is not None, timeout=30)
    assert job.final["status"] == "stopped"
    assert job.final["reason"] == "nobody watched it while it waited"


def test_queue_controls_reattach_and_a_killed_node(node, monkeypatch):
    keras = pytest.importorskip("keras")
    registry = ray_backend.RayRegistry(node.address, viewer_timeout=120)
    node.wait_for_cpus(1)
    first = registry.start(tiny_settings(epochs=50))
    second = registry.start(tiny_settings(epochs=50, train_examples=100))
    third = registry.start(tiny_settings(epochs=1))
    everyone = [first, second, third]
    wait_until(registry, lambda: first.placed, timeout=60, touch=everyone)
    # One CPU: the others are the cluster's pending actors, in the order they came.
    assert [second.state, second.queue_position] == ["queued", 1]
    assert [third.state, third.queue_position] == ["queued", 2]
    assert "pending actor, number 2 in the queue" in third.describe()
    assert runs.read_json(second.folder / "status.json")["status"] == "queued"
    # The learner's page says where the run waits.
    monkeypatch.setattr(backends, "_SHARED", registry)
    page = app_test("training", query={"job": second.run_id})
    assert not page.exception
    assert "it waits as a pending actor, number 1 in the queue" in page.info[0].value

    third.stop()  # stopped in the queue: its actor is gone, its slot never taken
    assert third.final["status"] == "stopped" and not third.active
    assert third.final["reason"] == "stopped while waiting for a slot"
    with pytest.raises(ValueError):
        ray.get_actor(ray_backend.PREFIX + third.run_id, namespace=ray_backend.NAMESPACE)

    wait_until(registry, lambda: samples(first) >= 50, touch=everyone)
    assert first.state == "running" and first.node
    # No GPU on this machine: TensorFlow in the actor says so, in the snapshot and the status.
    assert first.latest.device == "CPU"
    assert runs.read_json(first.folder / "status.json")["device"] == "CPU"
    first.pause()
    wait_until(registry, lambda: first.state == "paused", timeout=60, touch=everyone)
    time.sleep(0.5)
    registry.poll()
    time.sleep(0.3)
    registry.poll()
    frozen = samples(first)
    time.sleep(1.0)
    for _ in range(3):
        registry.poll()
        time.sleep(0.2)
    assert samples(first) == frozen, "a paused run must not train"
    first.set_learning_rate(0.0123)
    wait_until(registry, lambda: any("0.0123" in m for m in first.messages), timeout=60,
               touch=everyone)
    first.resume()
    wait_until(registry, lambda: samples(first) > frozen + 20, timeout=120, touch=everyone)
    assert first.latest.learning_rate == pytest.approx(0.0123)
    first.stop()
    wait_until(registry, lambda: not first.active, timeout=120, touch=everyone)
    assert first.final["status"] == "stopped"
    assert first.final["reason"] == "stopped by the user"
    model = keras.models.load_model(first.folder / "model.keras", safe_mode=True)
    assert model.count_params() == (4 * 9 + 4) + (3 * 3 * 4 * 6 + 6) + (6 * 6 * 6 * 10 + 10)
    assert results.run_test_probabilities(first.run_id).shape == (300, 10)
    assert results.saved_run(first.run_id)["epoch_log"][-1]["learning_rate"] == \
        pytest.approx(0.0123)

    # The freed CPU takes the next pending actor.
    wait_until(registry, lambda: second.placed, timeout=120, touch=[second])

    # A restarted server (a new registry, nothing in memory) adopts the run by its actor's
    # name, and a page with the run's id in its address finds it.
    restarted = ray_backend.RayRegistry(node.address, viewer_timeout=120)
    assert second.run_id in [job.run_id for job in restarted.jobs()]
    again = restarted.get(second.run_id)
    assert again is not None and again is not second
    assert restarted.get(first.run_id) is None  # finished: the page shows its saved files
    wait_until(restarted, lambda: epochs_done(again) >= 2 and again.latest is not None,
               touch=[again])
    assert again.state in ("running", "paused", "stopping", "saving") and again.active

    LocalCluster.kill(node.nodes[-1])  # the node, with the actor on it, is switched off
    wait_until(restarted, lambda: not again.active, timeout=120, touch=[again])
    assert again.final["status"] == "died"
    reason = again.final["reason"]
    assert "Ray actor" in reason and "died" in reason
    kept = runs.read_json(again.folder / "status.json")
    assert kept["status"] == "died"
    assert f"end of epoch {kept['epochs_done']} was kept" in reason and \
        kept["epochs_done"] >= 2
    assert "died" in again.describe()
    model = keras.models.load_model(again.folder / "model.keras", safe_mode=True)
    assert model.count_params() > 0
    assert len(results.saved_run(again.run_id)["epoch_log"]) >= 2
    assert not list(again.folder.glob(".*tmp*"))


def test_active_ray_runs_without_an_actor_are_marked_interrupted(cluster):
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "status.json", {"status": "running", "backend": "ray",
                                             "host": "ray", "epochs_done": 0})
    young = runs.new_run_id()
    runs.run_path(young).mkdir(parents=True)
    runs.update_status(runs.run_path(young), "queued", backend="ray", host="ray")
    old = runs.read_json(folder / "status.json")
    runs.write_json(folder / "status.json", dict(old, updated=time.time() - 3600))
    ray_backend.RayRegistry(cluster.address)
    status = runs.read_json(folder / "status.json")
    assert status["status"] == "interrupted" and "Ray actor is gone" in status["reason"]
    # A run started a moment ago whose actor is not registered yet is left alone.
    assert runs.read_json(runs.run_path(young) / "status.json")["status"] == "queued"
    # and a local server on this host does not take a Ray run for its own dead worker.
    jobs.Registry()
    assert runs.read_json(runs.run_path(young) / "status.json")["status"] == "queued"
