"""Training jobs on the server side: one spawned process per run, a cap, a registry.

This module does not import TensorFlow: the worker (``playground.training.worker.worker_main``)
imports it in its own process. The server only moves snapshots, commands and files.

A ``Job`` talks to its worker through ``Channels``:
  * a snapshot pipe behind a bounded outbox (the worker drops a snapshot when it is full;
    each snapshot is complete, so a dropped one loses nothing but a frame),
  * ``pause`` and ``stop`` Events, a command queue (learning-rate changes) and a reply queue,
  * shared Values: the worker's state (answered within one batch) and the viewer's heartbeat.

A ``Registry`` (one per server, kept by the page with ``st.cache_resource``) starts jobs up to
``max_runs`` at once (``$PLAYGROUND_MAX_RUNS``, default 2); the rest wait in a queue. A job whose
page has not been seen for ``viewer_timeout`` seconds (``$PLAYGROUND_VIEWER_TIMEOUT``, default
180) stops by itself and is saved.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from playground.core import network

from playground.core import runs

OPTIMIZERS = ("Adam", "SGD", "SGD+momentum", "RMSprop", "Adadelta")
CUSTOM = "Custom network (spec JSON)"
STATES = ("queued", "starting", "loading", "running", "paused", "stopping", "saving",
          "testing", "done")
ACTIVE = ("queued", "starting", "loading", "running", "paused", "stopping", "saving",
          "testing")
N_TRAIN, N_TEST = 60_000, 10_000
# The range of every number a run accepts. The page's widgets take the same bounds: a value
# from the address that a widget's own range refused would stop the page with an error.
LIMITS = {"momentum": (0.0, 0.999), "learning_rate": (1e-7, 10.0), "batch_size": (1, 8192),
          "epochs": (1, 200), "train_examples": (10, N_TRAIN), "validation_split": (0.0, 0.5),
          "dropout": (0.0, 0.95), "seed": (0, 2**31 - 1), "probe_index": (0, N_TEST - 1),
          "snapshot_interval": (0.05, 10.0), "stats_every": (1, 10_000),
          "test_examples": (1, N_TEST)}
FORGET_AFTER = 3600.0  # seconds a finished job stays in memory (its files stay on disk)
_CONTEXT = multiprocessing.get_context("spawn")

LR_SCHEDULES = ("constant", "one-cycle")
# Used when playground.training.models has no TRAINING_DEFAULTS entry for a network.
FALLBACK_DEFAULTS = {"optimizer": "Adam", "learning_rate": 0.001, "momentum": 0.9,
                     "lr_schedule": "constant", "batch_size": 100, "epochs": 5,
                     "train_examples": 60_000, "validation_split": 0.0, "dropout": None,
                     "seed": 0}


def env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def default_settings(preset: str) -> dict:
    """The settings form's starting values for a preset (models.TRAINING_DEFAULTS first)."""
    from playground.training import models  # imports keras; only the training page calls this
    settings = dict(FALLBACK_DEFAULTS)
    for key, value in models.training_defaults(
            preset if preset in network.PRESETS else {}).items():
        if key in FALLBACK_DEFAULTS:
            settings[key] = value
    settings["preset"] = preset
    return settings


def default_preset() -> str:
    from playground.training import models
    return models.DEFAULT_PRESET


def trainable_presets() -> list[str]:
    """Preset names that classify 28×28 digits (not the shape-only examples)."""
    names = []
    for name in network.PRESETS:
        try:
            check_mnist_spec(network.preset(name))
        except ValueError:
            continue
        names.append(name)
    return names


def _number(name: str, value, kind=float, low=None, high=None):
    try:
        number = kind(value)
        if kind is int and float(value) != number:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a{'n integer' if kind is int else ' number'}, "
                         f"got {value!r}") from None
    if kind is float and not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be in {low}..{high}, got {value!r}")
    return number


def check_mnist_spec(spec: dict) -> dict:
    """Validate a network spec for MNIST: 1 channel, at most 28×28, a 10-way softmax output."""
    spec = network.validate(spec)
    h, w, c = spec["input_shape"]
    if c != 1 or h > 28 or w > 28:
        raise ValueError(f"input_shape must be at most 28×28×1 for MNIST, got {h}×{w}×{c}")
    if network.output_shape(spec) != (10,):
        raise ValueError(f"the network must end with 10 outputs (one per digit), got "
                         f"{network.output_shape(spec)}")
    last = spec["layers"][-1]
    if last["type"] != "Dense" or last.get("activation") != "softmax":
        raise ValueError("the last layer must be Dense with 10 units and softmax activation")
    return spec


def normalize_settings(raw: dict) -> dict:
    """A complete, checked copy of a run's settings. Raises ValueError with a one-line message.

    Keys: preset (name in network.PRESETS, or CUSTOM with ``spec``), spec (dict or None),
    optimizer, learning_rate, batch_size, epochs, train_examples, validation_split, dropout
    (None = as in the network), seed, probe_index (test digit), snapshot_interval (s),
    stats_every (batches), test_examples (None = all 10,000).
    """
    if not isinstance(raw, dict):
        raise ValueError("settings must be a dict")
    preset = raw.get("preset")
    out: dict[str, Any] = {"preset": preset}
    if preset == CUSTOM or (preset not in network.PRESETS and raw.get("spec")):
        spec = raw.get("spec")
        if isinstance(spec, str):
            spec = network.from_json(spec)
        if not isinstance(spec, dict):
            raise ValueError("a custom network needs a spec (paste the Shape Lab's JSON)")
        out["preset"], out["spec"] = CUSTOM, check_mnist_spec(spec)
    elif preset in network.PRESETS:
        out["spec"] = None
        check_mnist_spec(network.preset(preset))
    else:
        raise ValueError(f"preset must be one of {', '.join(network.PRESETS)}, got {preset!r}")
    optimizer = raw.get("optimizer", "Adam")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    out["optimizer"] = optimizer

    def number(name, kind, default):
        return _number(name, raw.get(name, default), kind, *LIMITS[name])

    out["momentum"] = number("momentum", float, 0.9)
    schedule = raw.get("lr_schedule", "constant")
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                         f"got {schedule!r}")
    out["lr_schedule"] = schedule
    out["learning_rate"] = number("learning_rate", float, 0.001)
    out["batch_size"] = number("batch_size", int, 128)
    out["epochs"] = number("epochs", int, 1)
    out["train_examples"] = number("train_examples", int, N_TRAIN)
    out["validation_split"] = number("validation_split", float, 0.1)
    if out["train_examples"] - round(out["train_examples"] * out["validation_split"]) < 1:
        raise ValueError("validation_split leaves no training examples")
    out["dropout"] = None if raw.get("dropout") in (None, "") else \
        number("dropout", float, None)
    out["seed"] = number("seed", int, 0)
    out["probe_index"] = number("probe_index", int, 0)
    out["snapshot_interval"] = number("snapshot_interval", float, 0.5)
    out["stats_every"] = number("stats_every", int, 25)
    out["test_examples"] = None if raw.get("test_examples") in (None, "") else \
        number("test_examples", int, None)
    return out


QUERY_KEYS = ("optimizer", "learning_rate", "lr_schedule", "batch_size", "epochs",
              "train_examples", "validation_split", "dropout", "seed", "probe_index")


def settings_from_query(params, defaults: dict) -> tuple[dict, list[str]]:
    """Settings carried in the page's URL (shareable), laid over ``defaults``.

    params: a mapping of str -> str (st.query_params). Each value is checked on its own; a bad
    one is left out and named in the returned list of one-line problems.
    """
    settings, problems = dict(defaults), []
    # Each value is checked against a known network: these settings do not depend on it.
    base = {k: v for k, v in defaults.items() if k in QUERY_KEYS}
    base["preset"] = next(iter(trainable_presets()))
    for key in QUERY_KEYS:
        if key not in params:
            continue
        try:
            checked = normalize_settings(dict(base, **{key: params[key]}))
        except ValueError as err:
            problems.append(str(err))
            continue
        settings[key] = checked[key]
    return settings, problems


# ------------------------------------------------------------------------- channels

class WorkerControl:
    """The worker's view of its channels (used by worker.ControlCallback)."""

    def __init__(self, channels: "Channels"):
        self.c = channels
        self.terminate = ""

    def paused(self) -> bool:
        return self.c.pause.is_set()

    def stopped(self) -> bool:
        return self.c.stop.is_set() or bool(self.terminate)

    def next_command(self):
        try:
            return self.c.commands.get_nowait()
        except queue.Empty:
            return None

    def set_state(self, name: str) -> None:
        self.c.state.value = STATES.index(name)

    def reply(self, text: str) -> None:
        try:
            self.c.replies.put_nowait(text)
        except queue.Full:
            pass

    def viewer_gone(self) -> str:
        if self.terminate:
            return self.terminate
        if os.getppid() != self.c.parent_pid:
            return "the server went away"
        idle = time.time() - self.c.heartbeat.value
        if idle > self.c.viewer_timeout:
            return f"nobody watched the run for {idle:.0f} s (viewer time-out)"
        return ""


class Channels:
    """Everything a job and its worker share. Picklable into a spawned process.

    Snapshots travel through a one-way Pipe fed by a sender thread in the worker, behind a
    2-slot outbox: the training thread never waits (a full outbox drops the snapshot), and
    the server closes its copy of the pipe's write end, so a worker killed in the middle of
    a message gives the server an EOF instead of a read that never returns (which is what a
    multiprocessing.Queue does).
    """

    def __init__(self, viewer_timeout: float):
        self._reader, self._writer = _CONTEXT.Pipe(duplex=False)
        self.commands = _CONTEXT.Queue(maxsize=64)
        self.replies = _CONTEXT.Queue(maxsize=64)   # short strings: one atomic write each
        self.pause = _CONTEXT.Event()
        self.stop = _CONTEXT.Event()
        self.state = _CONTEXT.Value("i", 0, lock=False)
        self.heartbeat = _CONTEXT.Value("d", time.time(), lock=False)
        self.viewer_timeout = float(viewer_timeout)
        self.parent_pid = os.getpid()
        self.dropped = 0
        self._outbox: Optional[queue.Queue] = None
        self._sender: Optional[threading.Thread] = None
        self._eof = False

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_outbox"] = state["_sender"] = None
        return state

    # ---- server side
    def after_start(self) -> None:
        """Server: drop our copy of the write end once the worker has its own."""
        self._writer.close()

    def receive(self) -> list[dict]:
        """Server: every complete snapshot waiting in the pipe (never blocks on a dead worker)."""
        found = []
        while not self._eof:
            try:
                if not self._reader.poll():
                    break
                found.append(self._reader.recv())
            except (EOFError, OSError):
                self._eof = True
                self._reader.close()
        return found

    # ---- worker side
    def put_snapshot(self, snapshot: dict) -> None:
        """Worker: hand a snapshot over, or drop it if the page is behind."""
        try:
            self._outbox.put_nowait(snapshot)
        except queue.Full:
            self.dropped += 1

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            try:
                self._writer.send(item)
            except (OSError, ValueError):
                return

    def flush(self, timeout: float = 5.0) -> None:
        """Worker: let the sender finish what is queued (bounded: a gone server is no reason
        to hang)."""
        try:
            self._outbox.put(None, timeout=timeout)
        except queue.Full:
            return
        self._sender.join(timeout)

    def worker_side(self) -> WorkerControl:
        self._reader.close()
        self.replies.cancel_join_thread()
        self._outbox = queue.Queue(maxsize=2)
        self._sender = threading.Thread(target=self._send_loop, name="snapshot-sender",
                                        daemon=True)
        self._sender.start()
        control = WorkerControl(self)

        def _terminate(signum, frame):  # server shutting down / Ctrl+C: stop and save
            control.terminate = f"the server shut down (signal {signal.Signals(signum).name})"
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        return control


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
        self.latest: Optional[dict] = None
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
        value = _number("learning rate", value, float, *LIMITS["learning_rate"])
        try:
            self.channels.commands.put_nowait(("lr", value))
        except queue.Full:
            raise ValueError("too many commands waiting; try again in a moment") from None

    def start_process(self) -> None:
        self.process = _CONTEXT.Process(target=_worker_entry, name=f"train-{self.run_id}",
                                        args=(self.run_id, self.settings, self.channels),
                                        daemon=True)
        self.process.start()
        self.channels.after_start()
        write_status_json(self.folder, "starting", pid=self.process.pid)

    def drain(self) -> None:
        """Move every waiting snapshot and reply into this object (server side)."""
        for snapshot in self.channels.receive():
            if snapshot.get("phase") in ("testing", "done"):
                self.latest = dict(self.latest or {}, phase=snapshot["phase"])
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
            status = write_status_json(self.folder, "stopped",
                                       reason="stopped before training started")
        elif STATES[self.channels.state.value] != "done" or \
                status.get("status") not in ("finished", "stopped", "failed"):
            if code is not None and code < 0:
                how = f"was killed by signal {signal.Signals(-code).name}"
            else:
                how = f"ended unexpectedly (exit code {code})"
            runs.remove_partial_files(self.folder)
            status = write_status_json(self.folder, "died",
                                       reason=f"the training process {how}."
                                              f"{_what_was_kept(self.folder, status)}")
        self.final = status
        self.process.close()

    def describe(self) -> str:
        """One line for the page: what the job is doing now."""
        state = self.state
        text = {
            "queued": f"waiting for a free training slot (number {self.queue_position} in "
                      "the queue)",
            "starting": "starting a training process (loading TensorFlow)",
            "loading": "loading MNIST and building the network",
            "running": "training", "paused": "paused", "stopping": "stopping",
            "saving": "saving the model", "testing": "testing on the test digits",
            "done": "finishing",
        }.get(state)
        pending = {("pause", "running"): "pausing (after the current batch)",
                   ("resume", "paused"): "resuming",
                   ("stop", "running"): "stopping (after the current batch)",
                   ("stop", "paused"): "stopping"}.get((self.requested, state))
        if pending:
            return pending
        if text:
            return text
        final = self.final or {}
        reason = final.get("reason") or ""
        accuracy = final.get("test_accuracy")
        parts = [state]
        if accuracy is not None:
            parts.append(f"test accuracy {accuracy:.2%} on {final.get('test_examples')} "
                         "test digits")
        if reason:
            parts.append(reason)
        return " — ".join(parts)


def _what_was_kept(folder: Path, status: dict) -> str:
    if not (folder / "model.keras").is_file():
        return " No model had been saved yet."
    done = status.get("epochs_done")
    return f" The model saved at the end of epoch {done} was kept." if done \
        else " The last saved model was kept."


def write_status_json(folder: Path, status: str, **extra) -> dict:
    record = runs.read_json(folder / "status.json") or {}
    record.update(extra)
    record.update(status=status, updated=time.time())
    runs.write_json(folder / "status.json", record)
    return record


class Registry:
    """All jobs of this server. Thread-safe; ``poll()`` is cheap and called by every page view."""

    def __init__(self, max_runs: Optional[int] = None, viewer_timeout: Optional[float] = None):
        self.max_runs = max_runs or env_int("PLAYGROUND_MAX_RUNS", 2)
        self.viewer_timeout = float(viewer_timeout or env_int("PLAYGROUND_VIEWER_TIMEOUT", 180))
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        mark_interrupted_runs()

    def start(self, settings: dict) -> Job:
        """Check the settings, save them, and start (or queue) a job. Raises ValueError."""
        settings = normalize_settings(settings)
        run_id = runs.new_run_id()
        folder = runs.run_path(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        runs.write_json(folder / "settings.json", settings)
        write_status_json(folder, "queued", host=os.uname().nodename)
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
                job.final = write_status_json(job.folder, "stopped",
                                              reason="stopped while waiting for a slot")
                job.ended = now
            elif now - max(job.last_seen, job.channels.heartbeat.value) > self.viewer_timeout:
                job.final = write_status_json(job.folder, "stopped",
                                              reason="nobody watched it while it waited")
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
            write_status_json(folder, "interrupted",
                              reason="the server stopped while this run was active."
                                     + _what_was_kept(folder, status))


# ------------------------------------------------------------------------- saved runs

def saved_run(run_id: str) -> Optional[dict]:
    """Everything saved for a run (None if the id is malformed or unknown).

    {"run_id", "path", "settings", "status", "has_model", "epoch_log", "batch_log",
     "layer_stats", "summary"} — logs as lists of dicts of floats.
    """
    if not runs.is_run_id(run_id):
        return None
    folder = runs.run_path(run_id)
    if not folder.is_dir():
        return None
    return {"run_id": run_id, "path": folder,
            "settings": runs.read_json(folder / "settings.json") or {},
            "status": runs.read_json(folder / "status.json") or {},
            "has_model": (folder / "model.keras").is_file(),
            "epoch_log": read_csv(folder / "history.csv"),
            "batch_log": read_csv(folder / "batches.csv"),
            "layer_stats": read_csv(folder / "layer_stats.csv"),
            "summary": runs.read_json(folder / "summary.json") or {}}


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV we wrote; numbers as floats, blanks as None, text kept. [] if missing."""
    import csv
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return []
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            if value in ("", None):
                clean[key] = None
            else:
                try:
                    clean[key] = float(value)
                except ValueError:
                    clean[key] = value
        out.append(clean)
    return out


def test_probabilities(run_id: str):
    """float32 (N, 10) softmax outputs on the first N test digits, or None if not evaluated."""
    import numpy as np
    path = runs.run_path(run_id) / "test_probabilities.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def evaluate_in_worker(run_id: str, timeout: float = 300) -> Optional[str]:
    """Evaluate a saved run on the test digits in a spawned process. Returns an error or None."""
    process = _CONTEXT.Process(target=_evaluate_entry, args=(run_id,), daemon=True)
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        return "evaluation took too long and was stopped"
    if process.exitcode != 0:
        return f"evaluation failed (exit code {process.exitcode})"
    return None


def _evaluate_entry(run_id: str) -> None:
    from playground.training import worker
    worker.evaluate_run(run_id)


# ------------------------------------------------------------------------- results

def test_digits():
    """(x_test uint8 (10000, 28, 28), y_test uint8 (10000,)) — numpy only, no TensorFlow."""
    from playground.datasets import mnist
    _, (x_test, y_test) = mnist.load_mnist()
    return x_test, y_test


def evaluation(run_id: str) -> Optional[dict]:
    """Test results of a saved run from its saved softmax outputs, or None if not evaluated.

    {"probabilities": float32 (N, 10), "labels": uint8 (N,), "predictions": int64 (N,),
     "accuracy": float, "matrix": int64 (10, 10) rows = true digit, columns = predicted}
    """
    import numpy as np
    probs = test_probabilities(run_id)
    if probs is None or probs.ndim != 2 or probs.shape[1] != 10:
        return None
    _, labels = test_digits()
    labels = labels[:len(probs)]
    predictions = probs.argmax(axis=1)
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions), 1)
    return {"probabilities": probs, "labels": labels, "predictions": predictions,
            "accuracy": float((predictions == labels).mean()), "matrix": matrix}


def top_k(probabilities, k: int = 3) -> list[tuple[int, float]]:
    """The k most probable digits of one softmax vector, best first: [(digit, p), ...]."""
    import numpy as np
    probabilities = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(int(d), float(probabilities[d])) for d in order]


def digits_where(result: dict, true: Optional[int] = None, predicted: Optional[int] = None,
                 wrong_only: bool = False, limit: int = 32) -> dict:
    """Test digits picked from an evaluation, most confident mistakes first.

    Returns {"indices": int (n,), "images": float32 (n, 28, 28) in [0, 1], "captions": [str],
    "count": int (how many matched before the limit)}; captions read "7→2 (91%)".
    """
    import numpy as np
    labels, predictions = result["labels"], result["predictions"]
    mask = np.ones(len(labels), dtype=bool)
    if true is not None:
        mask &= labels == true
    if predicted is not None:
        mask &= predictions == predicted
    if wrong_only:
        mask &= labels != predictions
    indices = np.flatnonzero(mask)
    confidence = result["probabilities"][indices, predictions[indices]]
    indices = indices[np.argsort(-confidence, kind="stable")][:limit]
    x_test, _ = test_digits()
    images = x_test[indices].astype(np.float32) / 255.0
    captions = []
    for i in indices:
        best = top_k(result["probabilities"][i], 1)[0]
        captions.append(f"{labels[i]}→{best[0]} ({best[1]:.0%})")
    return {"indices": indices, "images": images, "captions": captions,
            "count": int(mask.sum())}


def top3_table(result: dict, indices) -> list[dict]:
    """Rows for a table: test index, label, then the 3 most probable digits with p."""
    rows = []
    for i in indices:
        row = {"test digit": int(i), "label": int(result["labels"][i])}
        for rank, (digit, p) in enumerate(top_k(result["probabilities"][i], 3), start=1):
            row[f"#{rank}"] = f"{digit} ({p:.1%})"
        rows.append(row)
    return rows


def test_digit(index: int):
    """float32 (28, 28) in [0, 1] and the label of test digit ``index``."""
    x_test, y_test = test_digits()
    index = int(index)
    if not 0 <= index < len(y_test):
        raise ValueError(f"test digit index must be in 0..{len(y_test) - 1}, got {index}")
    return x_test[index].astype("float32") / 255.0, int(y_test[index])


def random_test_index(limit: int, seed: Optional[int] = None) -> int:
    import numpy as np
    return int(np.random.default_rng(seed).integers(0, limit))


def ensemble(run_ids: Sequence[str]) -> dict:
    """Average the saved softmax outputs of several runs (the course's ensemble).

    Returns {"members": [{"run_id", "accuracy"}], "accuracy": float | None, "n": int,
    "skipped": [run ids without a usable evaluation]} — all on the first n test digits that
    every member was evaluated on.
    """
    import numpy as np
    found, skipped = [], []
    for run_id in run_ids:
        probs = test_probabilities(run_id)
        (found if probs is not None and probs.ndim == 2 and probs.shape[1] == 10
         else skipped).append((run_id, probs))
    if not found:
        return {"members": [], "accuracy": None, "n": 0, "skipped": [r for r, _ in skipped]}
    n = min(len(p) for _, p in found)
    _, labels = test_digits()
    labels = labels[:n]
    members = [{"run_id": r, "accuracy": float((p[:n].argmax(1) == labels).mean())}
               for r, p in found]
    mean = np.mean([p[:n] for _, p in found], axis=0)
    return {"members": members, "accuracy": float((mean.argmax(1) == labels).mean()), "n": n,
            "skipped": [r for r, _ in skipped]}


def saved_runs_table() -> list[dict]:
    """One row per saved run (newest first) for the page's list."""
    rows = []
    for run in runs.list_runs():
        settings, status = run["settings"], run["status"]
        accuracy = status.get("test_accuracy")
        rows.append({"run": run["run_id"], "network": settings.get("preset", "?"),
                     "optimizer": settings.get("optimizer", "?"),
                     "learning rate": settings.get("learning_rate"),
                     "epochs": status.get("epochs_done"),
                     "status": status.get("status", "?"),
                     "test accuracy": None if accuracy is None else round(100 * accuracy, 2)})
    return rows


def run_label(run_id: str) -> str:
    """"20261122-183000-a1b2c3 · Adam 0.001 · Course CNN (2 conv)" for pickers."""
    settings = runs.read_json(runs.run_path(run_id) / "settings.json") or {}
    return (f"{run_id} · {settings.get('optimizer', '?')} {settings.get('learning_rate', '')}"
            f" · {settings.get('preset', '?')}")
