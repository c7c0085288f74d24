"""The classroom deployment (deploy/classroom.py): two app replicas behind HAProxy, trainings on
a Ray cluster started here. A learner's page (Chromium) watches a run through the proxy; its
replica is killed (SIGKILL, the whole process group); the page reconnects through the proxy to
the other replica and re-attaches to the same run, still training, from the id in its address.
"""
from __future__ import annotations

import os
import re
import time

import pytest

from deploy.classroom import HAPROXY, Classroom, haproxy_config
from tests.helpers import free_port
from tests.test_training_jobs import samples, tiny_settings, wait_until

pytest.importorskip("ray")
from playground.training import ray_backend  # noqa: E402
from tests.ray_cluster import LocalCluster, wait_for_head  # noqa: E402

PROGRESS = re.compile(r"epoch (\d+)/(\d+), batch (\d+)/(\d+)")


def _need_haproxy():
    if HAPROXY:
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the classroom test: install Debian's haproxy (.ci/run does)")
    pytest.skip("no haproxy (Debian: apt-get install haproxy)")


def test_the_config_has_sticky_cookies_health_checks_and_every_replica():
    config = haproxy_config(8600, [8601, 8602, 8603], bind="127.0.0.1")
    assert "bind 127.0.0.1:8600" in config
    assert "cookie PLAYGROUND_REPLICA insert" in config
    assert "option httpchk GET /_stcore/health" in config
    assert "option redispatch" in config and "timeout tunnel" in config
    assert re.findall(r"server (r\d) 127\.0\.0\.1:(\d+) check cookie (r\d)", config) == \
        [("r1", "8601", "r1"), ("r2", "8602", "r2"), ("r3", "8603", "r3")]


def _progress(tab) -> tuple[int, int]:
    """(epoch, batch) the page shows now, or (-1, -1)."""
    found = PROGRESS.search(tab.inner_text("body"))
    return (int(found.group(1)), int(found.group(3))) if found else (-1, -1)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.mark.slow
@pytest.mark.browser
def test_a_replica_killed_mid_training_its_page_reconnects_and_re_attaches(browser):
    _need_haproxy()
    cluster = LocalCluster()
    try:
        wait_for_head(cluster)
        cluster.add_node(num_cpus=1)
        registry = ray_backend.RayRegistry(cluster.address, viewer_timeout=300)
        cluster.wait_for_cpus(1)
        job = registry.start(tiny_settings(epochs=200, train_examples=300))
        wait_until(registry, lambda: samples(job) > 0, touch=[job])
        with Classroom(replicas=2, port=free_port(), ray_address=cluster.address,
                       runs_dir=os.environ["PLAYGROUND_RUNS_DIR"], bind="127.0.0.1") as room:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            try:
                tab = context.new_page()
                tab.goto(f"{room.url}/training?job={job.run_id}")
                tab.get_by_text(f"Run {job.run_id}", exact=False).first.wait_for(
                    timeout=120_000)
                before = _wait_for(lambda: max(_progress(tab), (0, 0)) > (0, 0) and
                                   _progress(tab), 120, "the live progress line")
                cookies = {c["name"]: c["value"] for c in context.cookies()}
                served_by = cookies["PLAYGROUND_REPLICA"]
                assert served_by in room.replicas

                room.kill_replica(served_by)
                # The page reconnects through the proxy to the other replica, which finds the
                # run by its actor's name and shows it training on.
                after = _wait_for(lambda: _progress(tab) > before and _progress(tab), 180,
                                  "the re-attached run's progress")
                # A progress line already on its way before the kill can arrive first: wait
                # for the proxy's cookie to name the other replica too.
                _wait_for(lambda: {c["name"]: c["value"] for c in context.cookies()}.get(
                    "PLAYGROUND_REPLICA") != served_by, 60, "the other replica's cookie")
                # ... and the run go on there.
                _wait_for(lambda: _progress(tab) > after, 180, "progress on the other replica")
                assert after > before
                assert f"Run {job.run_id}" in tab.inner_text("body")
                assert "There is no run with the id" not in tab.inner_text("body")
                cookies = {c["name"]: c["value"] for c in context.cookies()}
                assert cookies["PLAYGROUND_REPLICA"] != served_by
                registry.poll()
                assert job.active and job.state in ("running", "paused")
            finally:
                context.close()
        registry.shutdown(timeout=60)
        assert job.final["status"] == "stopped"
    finally:
        cluster.close()
