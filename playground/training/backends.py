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
import socket
import threading
import time
from typing import Optional, Protocol
from urllib.parse import urlsplit

from playground.i18n import _
from playground.training.snapshot import Snapshot

PROBE_TIMEOUT = 3.0   # seconds to wait for the cluster's port before saying it is unreachable
RETRY_AFTER = 15.0    # seconds before an unreachable cluster is asked again (views would wait)


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


class Unreachable:
    """The backend when the configured Ray cluster cannot be reached: no jobs, nothing starts,
    one line (``problem``) for the pages to show. Saved runs are files, so they still open."""

    name = "unreachable"
    max_runs = 0
    viewer_timeout = 0.0

    def __init__(self, address: str, reason: str):
        self.address, self.reason = address, reason

    @property
    def problem(self) -> str:
        """The line, in the language of the session that reads it (the backend is shared)."""
        return _("The Ray cluster at {address} cannot be reached ({reason}): nothing can "
                 "train until it is back. Check PLAYGROUND_RAY_ADDRESS and that the cluster "
                 "is running (ray status); saved runs still open.",
                 address=self.address, reason=self.reason)

    def start(self, settings: dict, data=None) -> TrainingJob:
        raise ValueError(self.problem)

    def get(self, run_id: str) -> Optional[TrainingJob]:
        return None

    def jobs(self) -> list[TrainingJob]:
        return []

    def live_snapshot(self, run_id: str) -> Optional[Snapshot]:
        return None

    def poll(self) -> None:
        pass

    def shutdown(self, timeout: float = 30) -> None:
        pass


def _probe(address: str) -> None:
    """Raise ``OSError`` when nothing listens at the address's host and port, within
    ``PROBE_TIMEOUT``: Ray itself waits 30 s on a ``ray://`` address and minutes on a GCS
    ``host:port`` before it gives up. ``auto`` (a cluster on this machine) fails fast alone."""
    if address == "auto":
        return
    parts = urlsplit(address if "://" in address else "tcp://" + address)
    if parts.hostname is None or parts.port is None:   # ValueError: a port that is no number
        raise ValueError(address)
    socket.create_connection((parts.hostname, parts.port), timeout=PROBE_TIMEOUT).close()


def make_registry() -> TrainingBackend:
    """The backend this server is configured for: Ray when ``$PLAYGROUND_RAY_ADDRESS`` is set,
    else local processes (exactly as before the boundary existed). A Ray address that is
    malformed or unreachable gives an ``Unreachable`` backend with one line saying so."""
    address = ray_address()
    if address:
        try:
            _probe(address)
            from playground.training import ray_backend  # imports ray: only when asked for
            return ray_backend.RayRegistry(address)
        except (OSError, ValueError, RuntimeError) as err:   # ConnectionError is an OSError
            reason = (str(err).splitlines() or [""])[0][:160] or type(err).__name__
            return Unreachable(address, reason)
    from playground.training import jobs
    return jobs.Registry()


_SHARED: Optional[TrainingBackend] = None
_SHARED_LOCK = threading.Lock()
_FAILED_AT = 0.0


def shared_registry() -> TrainingBackend:
    """This server's one backend, shared by the Training and Teacher pages and every session
    (made on first use: jobs survive page refreshes)."""
    global _SHARED, _FAILED_AT
    with _SHARED_LOCK:
        if isinstance(_SHARED, Unreachable) and time.monotonic() - _FAILED_AT > RETRY_AFTER:
            _SHARED = None   # the cluster may be back: ask again
        if _SHARED is None:
            _SHARED = make_registry()
            _FAILED_AT = time.monotonic()
        return _SHARED
