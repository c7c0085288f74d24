"""Training jobs on the server side: one spawned process per run, a cap, a registry, and the
recovery of runs a previous server left behind.

This module does not import TensorFlow: the worker (``playground.training.worker.worker_main``)
imports it in its own process. The server only moves snapshots, commands and files
(``playground.training.channels``).

A ``Registry`` (one per server, kept by the page with ``st.cache_resource``) starts jobs up to
``max_runs`` at once (``$PLAYGROUND_MAX_RUNS``, default 2); the rest wait in a queue. A job whose
page has not been seen for ``viewer_timeout`` seconds (``$PLAYGROUND_VIEWER_TIMEOUT``, default
180) stops by itself and is saved.
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Optional

from playground.core import runs
from playground.i18n import N_, _
from playground.training import texts
from playground.training.channels import CONTEXT, STATES, Channels
from playground.training.data import write_run_data
from playground.training.settings import PROPS, normalize_settings
from playground.training.snapshot import Snapshot

# States in which a run's worker may still write to its folder.
ACTIVE = STATES[:-1]
FORGET_AFTER = 3600.0  # seconds a finished job stays in memory (its files stay on disk)


def env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _worker_entry(run_id: str, settings: dict, channels: Channels) -> None:
    # Training is batch work: on a shared 2-core server the pages people click on must win the
    # CPU over it. $PLAYGROUND_WORKER_NICE (default 10; 0 = same priority as the server).
    try:
        os.nice(max(0, int(os.environ.get("PLAYGROUND_WORKER_NICE", 10))))
    except (OSError, ValueError):
        pass
    from playground.training import worker  # TensorFlow is imported here, in the worker only
    worker.worker_main(run_id, settings, channels)


# ------------------------------------------------------------------------- jobs

class Job:
    """One training run seen from the server: status, latest snapshot, controls."""

    def __init__(self, run_id: str, settings: dict, viewer_timeout: float):
        self.run_id = run_id
        self.settings = settings
        self.channels = Channels(viewer_timeout)
        self.process: Optional[multiprocessing.Process] = None
        self.latest: Optional[Snapshot] = None
        self.messages: list[str] = []
        self.created = time.time()
        self.last_seen = time.time()
        self.final: Optional[dict] = None  # status.json once the worker is done or died
        self.queue_position = 0
        self.requested = ""  # the last button pressed, until the worker acknowledges it
        self.ended = math.inf

    @property
    def folder(self) -> Path:
        return runs.run_path(self.run_id)

    @property
    def state(self) -> str:
        if self.final is not None:
            return self.final.get("status", "done")
        if self.process is None:
            return "queued"
        return STATES[self.channels.state.value] if self.channels.state.value else "starting"

    @property
    def active(self) -> bool:
        return self.final is None

    def touch(self) -> None:
        """The page is looking at this job (heartbeat for the viewer time-out)."""
        self.last_seen = time.time()
        self.channels.heartbeat.value = self.last_seen

    def pause(self) -> None:
        self.channels.pause.set()
        self.requested = "pause"

    def resume(self) -> None:
        self.channels.pause.clear()
        self.requested = "resume"

    def stop(self) -> None:
        self.channels.stop.set()
        self.channels.pause.clear()
        self.requested = "stop"
        if self.process is not None and self.final is None and self.state == "starting":
            # Still importing TensorFlow: nothing to save, so free the slot now.
            self.process.terminate()

    def set_learning_rate(self, value: float) -> None:
        value = PROPS["learning_rate"].parse(value)
        try:
            self.channels.commands.put_nowait(("lr", value))
        except queue.Full:
            raise ValueError(_("too many commands waiting; try again in a moment")) from None

    def start_process(self) -> None:
        self.process = CONTEXT.Process(target=_worker_entry, name=f"train-{self.run_id}",
                                        args=(self.run_id, self.settings, self.channels),
                                        daemon=True)
        self.process.start()
        self.channels.after_start()
        runs.update_status(self.folder, "starting", pid=self.process.pid)

    def drain(self) -> None:
        """Move every waiting snapshot and reply into this object (server side)."""
        for snapshot in self.channels.receive():
            if snapshot.phase in ("testing", "done") and self.latest is not None:
                # These carry no curves: keep the last ones on show.
                self.latest = dataclasses.replace(self.latest, phase=snapshot.phase)
            else:
                self.latest = snapshot
        while True:
            try:
                self.messages.append(self.channels.replies.get_nowait())
            except (queue.Empty, OSError, EOFError, ValueError):
                break
        del self.messages[:-5]

    def check_exit(self) -> None:
        """Once the process has ended, read its status; a worker that died says so."""
        if self.final is not None or self.process is None or self.process.is_alive():
            return
        self.process.join(timeout=1)
        self.drain()
        code = self.process.exitcode
        status = runs.read_json(self.folder / "status.json") or {}
        if self.channels.stop.is_set() and self.channels.state.value <= STATES.index("loading"):
            status = runs.update_status(self.folder, "stopped",
                                       reason=texts.STOPPED_BEFORE_START)
        elif STATES[self.channels.state.value] != "done" or \
                status.get("status") not in ("finished", "stopped", "failed"):
            if code is not None and code < 0:
                how = texts.KILLED.format(signal=signal.Signals(-code).name)
            else:
                how = texts.EXITED.format(code=code)
            runs.remove_partial_files(self.folder)
            status = runs.update_status(self.folder, "died",
                                       reason=texts.PROCESS_DIED.format(
                                           how=how, kept=_what_was_kept(self.folder, status)))
        self.final = status
        self.process.close()

    def describe(self) -> str:
        """One line for the page: what the job is doing now."""
        state = self.state
        if state == "queued":
            return _("waiting for a free training slot (number {position} in the queue)",
                     position=self.queue_position)
        text = {
            "starting": N_("starting a training process (loading TensorFlow)"),
            "loading": N_("loading the data and building the network"),
            "running": N_("training"), "paused": N_("paused"), "stopping": N_("stopping"),
            "saving": N_("saving the model"), "testing": N_("testing on the test pictures"),
            "done": N_("finishing"),
        }.get(state)
        pending = {("pause", "running"): N_("pausing (after the current batch)"),
                   ("resume", "paused"): N_("resuming"),
                   ("stop", "running"): N_("stopping (after the current batch)"),
                   ("stop", "paused"): N_("stopping")}.get((self.requested, state))
        if pending or text:
            return _(pending or text)
        final = self.final or {}
        reason = final.get("reason") or ""
        accuracy = final.get("test_accuracy")
        parts = [texts.status_word(state)]
        if accuracy is not None:
            parts.append(_("test accuracy {accuracy} on {count} test pictures",
                           accuracy=f"{accuracy:.2%}",
                           count=_thousands(final.get("test_examples"))))
        if reason:
            parts.append(texts.shown(reason))
        return " — ".join(parts)


def _thousands(count) -> str:
    """2000 -> '2,000' (the page's one number format); anything else as it is."""
    return f"{count:,}" if isinstance(count, int) and not isinstance(count, bool) else str(count)


def _what_was_kept(folder: Path, status: dict) -> str:
    if not (folder / "model.keras").is_file():
        return texts.NO_MODEL_KEPT
    done = status.get("epochs_done")
    return texts.EPOCH_MODEL_KEPT.format(epoch=done) if done else texts.LAST_MODEL_KEPT


class Registry:
    """All jobs of this server. Thread-safe; ``poll()`` is cheap and called by every page view."""

    def __init__(self, max_runs: Optional[int] = None, viewer_timeout: Optional[float] = None):
        self.max_runs = max_runs or env_int("PLAYGROUND_MAX_RUNS", 2)
        self.viewer_timeout = float(viewer_timeout or env_int("PLAYGROUND_VIEWER_TIMEOUT", 180))
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        mark_interrupted_runs()

    def start(self, settings: dict, data=None) -> Job:
        """Check the settings, save them (and what the run trains on: ``data``, a Dataset of
        the learner's own pictures, when the settings' dataset is theirs), and start (or
        queue) a job. Raises ValueError."""
        settings = normalize_settings(settings, data)
        run_id = runs.new_run_id()
        folder = runs.run_path(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        runs.write_json(folder / "settings.json", settings)
        write_run_data(folder, settings, data)
        runs.update_status(folder, "queued", host=os.uname().nodename)
        job = Job(run_id, settings, self.viewer_timeout)
        with self._lock:
            self._jobs[run_id] = job
            self._schedule()
        return job

    def get(self, run_id: str) -> Optional[Job]:
        with self._lock:
            return self._jobs.get(run_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def live_snapshot(self, run_id: str) -> Optional[Snapshot]:
        """The latest snapshot of a job still training, else None (its saved files tell)."""
        job = self.get(run_id)
        return job.latest if job is not None and job.active else None

    def running(self) -> list[Job]:
        return [j for j in self.jobs() if j.process is not None and j.final is None]

    def poll(self) -> None:
        """Drain every job's snapshots, notice ended workers, start queued jobs."""
        with self._lock:
            for job in self._jobs.values():
                if job.process is not None and job.final is None:
                    job.drain()
                    job.check_exit()
                    if job.final is not None:
                        job.ended = time.time()
            # Finished jobs live on disk; drop their in-memory snapshots after a while.
            for run_id in [r for r, j in self._jobs.items()
                           if j.final is not None and time.time() - j.ended > FORGET_AFTER]:
                del self._jobs[run_id]
            self._schedule()

    def _schedule(self) -> None:
        now = time.time()
        waiting = sorted((j for j in self._jobs.values()
                          if j.process is None and j.final is None), key=lambda j: j.created)
        for job in waiting:
            if job.channels.stop.is_set():
                job.final = runs.update_status(job.folder, "stopped",
                                              reason=texts.STOPPED_WAITING)
                job.ended = now
            elif now - max(job.last_seen, job.channels.heartbeat.value) > self.viewer_timeout:
                job.final = runs.update_status(job.folder, "stopped",
                                              reason=texts.UNWATCHED_IN_QUEUE)
                job.ended = now
        waiting = [j for j in waiting if j.final is None]
        free = self.max_runs - len(self.running())
        for job in waiting[:max(free, 0)]:
            job.touch()  # the viewer time-out counts from the start of training
            job.start_process()
        for position, job in enumerate(waiting[max(free, 0):], start=1):
            job.queue_position = position

    def shutdown(self, timeout: float = 30) -> None:
        """Stop every job and wait for the workers to save (tests and server exit)."""
        for job in self.jobs():
            job.stop()
        deadline = time.time() + timeout
        for job in self.jobs():
            if job.process is not None and job.final is None:
                job.process.join(max(deadline - time.time(), 0.1))
        self.poll()


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError, OverflowError):
        return False
    # A killed worker whose server died too is a zombie until init reaps it (seen lasting
    # over a second in containers); kill(pid, 0) still succeeds on it.
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def mark_interrupted_runs() -> None:
    """Runs that were active when a previous server on this host died are marked so."""
    host = os.uname().nodename
    for folder in runs.runs_dir().iterdir():
        if not runs.is_run_id(folder.name):
            continue
        status = runs.read_json(folder / "status.json") or {}
        if status.get("status") in ACTIVE and status.get("host", host) == host \
                and not _pid_alive(status.get("pid")):
            # Its writer is dead: a save it was in the middle of is only a temp file.
            runs.remove_partial_files(folder)
            runs.update_status(folder, "interrupted",
                              reason=texts.SERVER_STOPPED.format(
                                  kept=_what_was_kept(folder, status)))
