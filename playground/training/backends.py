"""Where training runs run: the one boundary between the page and the machines that train.

A *backend* is a registry of jobs. The page (and the teacher's view) only ever use the API
below, so a run trains the same way, and is watched and controlled the same way, whether it is
a process spawned on this server or an actor on a Ray cluster:

    registry = make_registry()          # once per server (the page keeps it in cache_resource)
    job = registry.start(settings, data)        # ValueError for bad settings
    registry.poll()                     # cheap; every page view: snapshots in, queue moved on
    registry.get(run_id) / registry.jobs() / registry.live_snapshot(run_id)
    job.touch(); job.pause(); job.resume(); job.stop(); job.set_learning_rate(0.01)
    job.state, job.active, job.latest (a Snapshot), job.messages, job.final, job.describe()

Two backends:
  * local (the default, nothing to configure): ``playground.training.jobs.Registry`` — one
    spawned process per run on this server, ``$PLAYGROUND_MAX_RUNS`` at once, the rest queued;
  * Ray (``$PLAYGROUND_RAY_ADDRESS`` set: ``auto``, ``ray://host:10001``, ``host:6379``):
    ``playground.training.ray_backend.RayRegistry`` — one named, detached actor per run on
    the cluster; the cluster's free CPUs (GPUs) are the cap and its pending actors the queue.

Both save a run in the same folder layout (``playground.core.runs``) under the runs
directory, which every app replica and every Ray node must share (the same path).
"""
from __future__ import annotations

import os
import threading
from typing import Optional, Protocol

from playground.training.snapshot import Snapshot


class TrainingJob(Protocol):
    """One run as the page sees it (``jobs.Job`` and ``ray_backend.RayJob``)."""

    run_id: str
    settings: dict
    latest: Optional[Snapshot]
    messages: list[str]
    final: Optional[dict]
    queue_position: int

    @property
    def state(self) -> str: ...
    @property
    def active(self) -> bool: ...
    def touch(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def set_learning_rate(self, value: float) -> None: ...
    def describe(self) -> str: ...


class TrainingBackend(Protocol):
    """A registry of jobs (``jobs.Registry`` and ``ray_backend.RayRegistry``)."""

    max_runs: int            # runs that train at once (the Ray cluster's: by its free CPUs)
    viewer_timeout: float

    def start(self, settings: dict, data=None) -> TrainingJob: ...
    def get(self, run_id: str) -> Optional[TrainingJob]: ...
    def jobs(self) -> list[TrainingJob]: ...
    def live_snapshot(self, run_id: str) -> Optional[Snapshot]: ...
    def poll(self) -> None: ...
    def shutdown(self, timeout: float = 30) -> None: ...


def ray_address() -> str:
    """``$PLAYGROUND_RAY_ADDRESS``, stripped ('' = the local backend)."""
    return os.environ.get("PLAYGROUND_RAY_ADDRESS", "").strip()


def make_registry() -> TrainingBackend:
    """The backend this server is configured for: Ray when ``$PLAYGROUND_RAY_ADDRESS`` is set,
    else local processes (exactly as before the boundary existed)."""
    address = ray_address()
    if address:
        from playground.training import ray_backend  # imports ray: only when asked for
        return ray_backend.RayRegistry(address)
    from playground.training import jobs
    return jobs.Registry()


_SHARED: Optional[TrainingBackend] = None
_SHARED_LOCK = threading.Lock()


def shared_registry() -> TrainingBackend:
    """This server's one backend, shared by the Training and Teacher pages and every session
    (made on first use: jobs survive page refreshes)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = make_registry()
        return _SHARED
