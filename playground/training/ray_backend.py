"""The Ray backend: each training run is a named, detached actor on a Ray cluster.

Chosen by ``$PLAYGROUND_RAY_ADDRESS`` (see ``playground.training.backends``). Same page API as
the local ``jobs.Registry``; what differs is where the run trains and how the two sides talk:

* ``TrainingActor`` (cluster side) runs ``worker.train_run`` in a thread of its own and answers
  ``poll`` / ``pause`` / ``resume`` / ``stop`` / ``set_learning_rate`` calls between batches
  (a threaded actor). It keeps only the latest ``Snapshot``: a poll takes that one, so a slow
  page loses frames, never time.
* ``RayRegistry`` (server side) creates the actors with their resources declared
  (``num_cpus``, ``$PLAYGROUND_RAY_CPUS``, default 1; ``num_gpus=1`` when the cluster has GPUs).
  A run the cluster has no room for stays a *pending actor*: that is the queue, and the page
  says so. ``poll()`` never blocks: it sends one ``poll`` call per job and takes the replies
  that have arrived (``ray.wait(timeout=0)``).
* Actors are named ``run-<run_id>`` in the namespace ``cnn-playground`` and detached, so a
  restarted server, or another app replica, finds a run from the id in the page's address
  (``get``) and adopts every live run when it starts (the teacher's view lists them all).
* Saved runs: the actor writes them itself to the shared runs directory (the path is passed to
  it), exactly as a local worker does. Why not send them back for the server to write: the
  worker already saves a checkpoint atomically at every epoch end, so a node that is killed
  leaves the last epoch's model behind; sent back, it would be lost with the node whenever no
  server was polling (a restart), and the app replicas need a shared directory anyway.
* The viewer time-out: each poll carries how long ago a page last looked at the run; an actor
  that nobody polls (every server gone) counts its own silence and stops and saves.
* A killed actor or node: the pending ``poll`` raises ``RayActorError``; the run is reported
  ``died`` with the epoch whose model was kept (``jobs._what_was_kept``).

The server imports ray only when this backend is chosen; TensorFlow only inside the actor.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import threading
import time
from pathlib import Path
from typing import Optional

from playground.core import runs
from playground.i18n import _
from playground.training import texts
from playground.training.data import write_run_data
from playground.training.jobs import ACTIVE, FORGET_AFTER, Job, _what_was_kept, env_int
from playground.training.settings import PROPS, normalize_settings
from playground.training.snapshot import Snapshot

NAMESPACE = "cnn-playground"
PREFIX = "run-"
FINAL = ("finished", "stopped", "failed")
ADOPT_EVERY = 5.0     # seconds between looks for runs other servers started
STALE_AFTER = 60.0    # an active ray run with no actor, older than this, was interrupted
ROOT = Path(__file__).resolve().parents[2]

# Why a Ray run ended (status.json's reason), in English; translated where shown.
ACTOR_DIED, CLUSTER_LOST = texts.ACTOR_DIED, texts.CLUSTER_LOST


# ------------------------------------------------------------------ cluster side

class ActorControl:
    """The worker's controls inside an actor (the interface ``worker.ControlCallback`` uses)."""

    def __init__(self, viewer_timeout: float):
        self.pause = threading.Event()
        self.stop = threading.Event()
        self.commands: collections.deque = collections.deque(maxlen=64)
        self.replies: list[str] = []
        self.state = "starting"
        self.heartbeat = time.time()
        self.viewer_timeout = float(viewer_timeout)
        self.terminate = ""

    def seen(self, idle: float) -> None:
        """A server polled: its page last looked ``idle`` seconds ago (no clocks compared)."""
        self.heartbeat = max(self.heartbeat, time.time() - max(float(idle), 0.0))

    def paused(self) -> bool:
        return self.pause.is_set()

    def stopped(self) -> bool:
        return self.stop.is_set()

    def next_command(self):
        try:
            return self.commands.popleft()
        except IndexError:
            return None

    def set_state(self, name: str) -> None:
        self.state = name

    def reply(self, text: str) -> None:
        self.replies.append(text)
        del self.replies[:-50]

    def viewer_gone(self) -> str:
        idle = time.time() - self.heartbeat
        if idle > self.viewer_timeout:
            return texts.VIEWER_GONE.format(seconds=f"{idle:.0f}")
        return ""


class TrainingActor:
    """One run on a Ray node. Created by ``RayRegistry.start`` as a detached, threaded actor."""

    def __init__(self, run_id: str, settings: dict, runs_dir: str, viewer_timeout: float):
        os.environ["PLAYGROUND_RUNS_DIR"] = runs_dir
        try:  # as a local worker: batch work yields the CPU to whatever serves pages
            os.nice(max(0, int(os.environ.get("PLAYGROUND_WORKER_NICE", 10))))
        except (OSError, ValueError):
            pass
        self.run_id, self.settings = run_id, settings
        self.control = ActorControl(viewer_timeout)
        self.node = os.uname().nodename
        self._lock = threading.Lock()
        self._latest: Optional[Snapshot] = None
        self._count = 0
        self._final: Optional[dict] = None
        self._n_replies = 0
        threading.Thread(target=self._train, name=f"train-{run_id}", daemon=True).start()

    def _sink(self, snapshot: Snapshot) -> None:
        with self._lock:
            if snapshot.phase in ("testing", "done") and self._latest is not None:
                # These carry no curves: keep the last ones on show.
                snapshot = dataclasses.replace(self._latest, phase=snapshot.phase,
                                               status=snapshot.status)
            self._latest = snapshot
            self._count += 1

    def _train(self) -> None:
        from playground.training import worker  # TensorFlow is imported here, in the actor
        folder = runs.run_path(self.run_id)
        try:
            status = worker.train_run(self.run_id, self.settings, self._sink, self.control)
        except Exception as err:  # one line on the page; the traceback in error.log
            import traceback
            runs.atomic_write_text(folder / "error.log", traceback.format_exc())
            status = worker.write_status(folder, "failed", reason=texts.failure(err))
        self.control.set_state("done")
        with self._lock:
            self._final = status
        # A server that polls now collects the status and kills this actor; if none does
        # (every server gone), do not hold the node's CPU for ever.
        time.sleep(max(self.control.viewer_timeout, 60.0))
        os._exit(0)

    def poll(self, since: int, replies_seen: int, idle: float) -> dict:
        """The run now, for a server: state, the latest snapshot if newer than ``since``,
        replies after the first ``replies_seen``, the final status once done."""
        self.control.seen(idle)
        with self._lock:
            replies = self.control.replies
            return {"state": self.control.state, "count": self._count,
                    "snapshot": self._latest if self._count > since else None,
                    "replies": replies[replies_seen:] if replies_seen <= len(replies)
                    else replies[-1:], "n_replies": len(replies), "final": self._final,
                    "node": self.node}

    def pause(self) -> None:
        self.control.pause.set()

    def resume(self) -> None:
        self.control.pause.clear()

    def stop(self) -> None:
        self.control.stop.set()
        self.control.pause.clear()

    def set_learning_rate(self, value: float) -> None:
        self.control.commands.append(("lr", float(value)))


# ------------------------------------------------------------------ server side

class RayJob:
    """One run on the cluster seen from the server; the same page API as ``jobs.Job``."""

    def __init__(self, run_id: str, settings: dict, actor, placed: bool = False):
        self.run_id = run_id
        self.settings = settings
        self.actor = actor
        self.latest: Optional[Snapshot] = None
        self.messages: list[str] = []
        self.created = time.time()
        self.last_seen = time.time()
        self.final: Optional[dict] = None
        self.queue_position = 0
        self.requested = ""
        self.ended = math.inf
        self.node = ""
        self.placed = placed                 # the actor exists on a node (not pending)
        # A page on this server looked at it: only then may this server end it for want of a
        # viewer while it waits (another replica adopts it too, but its learner's page is not
        # watching there).
        self.watched_here = False
        self.remote_state = "starting"
        self._ready = None if placed else actor.__ray_ready__.remote()
        self._inflight = None
        self._count = 0
        self._replies = 0

    folder = Job.folder
    active = Job.active

    @property
    def state(self) -> str:
        if self.final is not None:
            return self.final.get("status", "done")
        return self.remote_state if self.placed else "queued"

    def touch(self) -> None:
        self.last_seen = time.time()
        self.watched_here = True

    def pause(self) -> None:
        self.actor.pause.remote()
        self.requested = "pause"

    def resume(self) -> None:
        self.actor.resume.remote()
        self.requested = "resume"

    def stop(self) -> None:
        self.requested = "stop"
        if self.final is None and not self.placed:
            self._end(texts.STOPPED_WAITING)
        elif self.final is None:
            self.actor.stop.remote()

    def set_learning_rate(self, value: float) -> None:
        self.actor.set_learning_rate.remote(PROPS["learning_rate"].parse(value))

    def describe(self) -> str:
        if self.state == "queued":
            return _("waiting for room on the Ray cluster (a pending actor, number {position} "
                     "in the queue)", position=self.queue_position)
        return Job.describe(self)  # the same words as a local run for every other state

    # ---- the registry's side
    def _end(self, reason: str) -> None:
        """Stop a run that never started training: kill its (pending) actor."""
        import ray
        ray.kill(self.actor)
        self.final = runs.update_status(self.folder, "stopped", reason=reason)
        self.ended = time.time()

    def _apply(self, reply: dict) -> None:
        self.remote_state = reply["state"]
        self.node = reply["node"] or self.node
        if reply["snapshot"] is not None:
            self.latest, self._count = reply["snapshot"], reply["count"]
        self.messages.extend(reply["replies"])
        self._replies = reply["n_replies"]
        del self.messages[:-5]
        if reply["final"] is not None:
            import ray
            self.final, self.ended = reply["final"], time.time()
            ray.kill(self.actor)  # detached: it lives until killed

    def _died(self) -> None:
        status = runs.read_json(self.folder / "status.json") or {}
        if status.get("status") in FINAL:  # it had finished and left by itself
            self.final = status
        else:
            runs.remove_partial_files(self.folder)  # its writer is dead
            self.final = runs.update_status(
                self.folder, "died", reason=ACTOR_DIED.format(
                    node=self.node or "a node", kept=_what_was_kept(self.folder, status)))
        self.ended = time.time()


def _actor_class():
    import ray
    global _REMOTE
    if _REMOTE is None:
        _REMOTE = ray.remote(TrainingActor)
    return _REMOTE


_REMOTE = None


class RayRegistry:
    """Every run on the cluster, as one server sees it. Thread-safe; ``poll()`` never waits
    on the cluster."""

    name = "ray"

    def __init__(self, address: str, viewer_timeout: Optional[float] = None,
                 num_cpus: Optional[float] = None):
        import ray
        if not ray.is_initialized():
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
                     configure_logging=False,
                     job_config=ray.job_config.JobConfig(code_search_path=[str(ROOT)]))
        self.address = address
        self.viewer_timeout = float(viewer_timeout or env_int("PLAYGROUND_VIEWER_TIMEOUT", 180))
        self.num_cpus = float(num_cpus or os.environ.get("PLAYGROUND_RAY_CPUS") or 1)
        self._lock = threading.RLock()
        self._jobs: dict[str, RayJob] = {}
        self._adopted = 0.0
        self.max_runs, self.gpus = 1, 0
        self._read_cluster()
        self._adopt(startup=True)

    def _read_cluster(self) -> None:
        import ray
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0))
        self.max_runs = max(1, int(resources.get("CPU", 0) // self.num_cpus))

    # ---- runs other servers started, or this one before a restart
    def _attach(self, run_id: str, placed: bool = False) -> Optional[RayJob]:
        import ray
        try:
            actor = ray.get_actor(PREFIX + run_id, namespace=NAMESPACE)
        except ValueError:
            return None
        settings = runs.read_json(runs.run_path(run_id) / "settings.json") or {}
        job = RayJob(run_id, settings, actor, placed=placed)
        self._jobs[run_id] = job
        return job

    def _adopt(self, startup: bool = False) -> None:
        import ray
        self._adopted = time.time()
        names = {entry["name"] for entry in ray.util.list_named_actors(all_namespaces=True)
                 if entry.get("namespace") == NAMESPACE}
        for name in names:
            run_id = name[len(PREFIX):]
            if name.startswith(PREFIX) and runs.is_run_id(run_id) and run_id not in self._jobs:
                status = runs.read_json(runs.run_path(run_id) / "status.json") or {}
                if status.get("status") in ACTIVE:
                    self._attach(run_id)
        if not startup:
            return
        for folder in runs.runs_dir().iterdir():
            status = runs.read_json(folder / "status.json") or {}
            if runs.is_run_id(folder.name) and status.get("backend") == "ray" and \
                    status.get("status") in ACTIVE and PREFIX + folder.name not in names and \
                    time.time() - float(status.get("updated", 0)) > STALE_AFTER:
                runs.remove_partial_files(folder)
                runs.update_status(folder, "interrupted", reason=CLUSTER_LOST.format(
                    kept=_what_was_kept(folder, status)))

    # ---- the page's API
    def start(self, settings: dict, data=None) -> RayJob:
        """As ``jobs.Registry.start``; the run's actor is created at once (pending while the
        cluster has no room)."""
        settings = normalize_settings(settings, data)
        run_id = runs.new_run_id()
        folder = runs.run_path(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        runs.write_json(folder / "settings.json", settings)
        write_run_data(folder, settings, data)
        # host "ray": no local server's start-up check takes it for its own dead worker.
        runs.update_status(folder, "queued", backend="ray", host="ray", pid=None)
        options = dict(name=PREFIX + run_id, namespace=NAMESPACE, lifetime="detached",
                       num_cpus=self.num_cpus, max_concurrency=4, max_restarts=0)
        if self.gpus:
            options["num_gpus"] = 1
        actor = _actor_class().options(**options).remote(
            run_id, settings, str(runs.runs_dir()), self.viewer_timeout)
        job = RayJob(run_id, settings, actor)
        job.watched_here = True   # its learner's page is on this server
        with self._lock:
            self._jobs[run_id] = job
        return job

    def get(self, run_id: str) -> Optional[RayJob]:
        """The job, re-attached by its actor's name when this server does not know it yet."""
        with self._lock:
            job = self._jobs.get(run_id)
            if job is None and runs.is_run_id(run_id):
                status = runs.read_json(runs.run_path(run_id) / "status.json") or {}
                if status.get("status") in ACTIVE:
                    job = self._attach(run_id)
            return job

    def jobs(self) -> list[RayJob]:
        with self._lock:
            return list(self._jobs.values())

    def live_snapshot(self, run_id: str) -> Optional[Snapshot]:
        job = self.get(run_id)
        return job.latest if job is not None and job.active else None

    def running(self) -> list[RayJob]:
        return [j for j in self.jobs() if j.placed and j.final is None]

    def poll(self) -> None:
        """Take the replies that have arrived, send the next polls, move the queue on."""
        import ray
        with self._lock:
            now = time.time()
            if now - self._adopted > ADOPT_EVERY:
                self._read_cluster()
                self._adopt()
            live = [j for j in self._jobs.values() if j.final is None]
            self._check_pending([j for j in live if not j.placed], now)
            inflight = {}
            for job in live:
                if job.placed and job.final is None:
                    if job._inflight is None:
                        job._inflight = job.actor.poll.remote(job._count, job._replies,
                                                              now - job.last_seen)
                    inflight[job._inflight] = job
            ready = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)[0] \
                if inflight else []
            for ref in ready:
                job = inflight[ref]
                job._inflight = None
                try:
                    job._apply(ray.get(ref))
                except ray.exceptions.ActorUnavailableError:
                    continue  # the node may come back: ask again next time
                except ray.exceptions.RayActorError:
                    job._died()
            for run_id in [r for r, j in self._jobs.items()
                           if j.final is not None and now - j.ended > FORGET_AFTER]:
                del self._jobs[run_id]

    def _check_pending(self, pending: list[RayJob], now: float) -> None:
        import ray
        for job in pending:
            if ray.wait([job._ready], timeout=0)[0]:
                try:
                    ray.get(job._ready)
                    job.placed = True
                    job.last_seen = max(job.last_seen, now)  # time-out counts from here
                except ray.exceptions.RayActorError:
                    job._died()
            elif job.watched_here and now - job.last_seen > self.viewer_timeout:
                job._end(texts.UNWATCHED_IN_QUEUE)
        waiting = sorted((j for j in pending if not j.placed and j.final is None),
                         key=lambda j: j.created)
        for position, job in enumerate(waiting, start=1):
            job.queue_position = position

    def shutdown(self, timeout: float = 30) -> None:
        """Stop every job this server knows and wait for them to save (tests, server exit)."""
        for job in self.jobs():
            job.stop()
        deadline = time.time() + timeout
        while time.time() < deadline and any(j.final is None for j in self.jobs()):
            for job in self.jobs():
                job.touch()
            self.poll()
            time.sleep(0.1)
