"""The channels between a training job on the server and its worker process.

A job talks to its worker through ``Channels``:
  * a snapshot pipe behind a bounded outbox (the worker drops a snapshot when it is full;
    each snapshot is complete, so a dropped one loses nothing but a frame),
  * ``pause`` and ``stop`` Events, a command queue (learning-rate changes) and a reply queue,
  * shared Values: the worker's state (answered within one batch) and the viewer's heartbeat.

No TensorFlow: both the server and the worker import this.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Optional

from playground.training import texts
from playground.training.snapshot import Snapshot

# The worker's states, in order; Channels.state holds the index.
STATES = ("queued", "starting", "loading", "running", "paused", "stopping", "saving",
          "testing", "done")
# Every process of a job is spawned, never forked: a fork of a server with threads (and of
# TensorFlow) can deadlock.
CONTEXT = multiprocessing.get_context("spawn")


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
            return texts.SERVER_GONE
        idle = time.time() - self.c.heartbeat.value
        if idle > self.c.viewer_timeout:
            return texts.VIEWER_GONE.format(seconds=f"{idle:.0f}")
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
        self._reader, self._writer = CONTEXT.Pipe(duplex=False)
        self.commands = CONTEXT.Queue(maxsize=64)
        self.replies = CONTEXT.Queue(maxsize=64)   # short strings: one atomic write each
        self.pause = CONTEXT.Event()
        self.stop = CONTEXT.Event()
        self.state = CONTEXT.Value("i", 0, lock=False)
        self.heartbeat = CONTEXT.Value("d", time.time(), lock=False)
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

    def receive(self) -> list[Snapshot]:
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
    def put_snapshot(self, snapshot: Snapshot) -> None:
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
            control.terminate = texts.SERVER_SHUTDOWN.format(signal=signal.Signals(signum).name)
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        return control
