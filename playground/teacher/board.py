"""The teacher's board: every run of the server or cluster as one row, leaderboards per data
set, and the teacher's actions (behind a token from ``playground.teacher.access``).

Rows come from two places: the backend's jobs (live: their latest snapshot) and the shared
runs directory (runs no job holds any more, and runs other app replicas started). No
streamlit, no TensorFlow.
"""
from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Optional, TypedDict

from playground.core import runs
from playground.training.jobs import ACTIVE

LEARNER_FILE = "learner.json"
MAX_NAME = 40


class RunRow(TypedDict):
    """One run on the board. ``progress`` in [0, 1]; ``accuracy`` in [0, 1] or None, measured
    on ``measured_on`` ("test", "validation" or "training")."""
    run_id: str
    learner: str
    network: str
    dataset: str
    state: str
    progress: float
    accuracy: Optional[float]
    measured_on: str
    device: str
    live: bool


# ------------------------------------------------------------------ the learner's name

def clean_name(name: object) -> str:
    """A learner's name as typed, made safe to store and show: no control characters, one
    space between words, at most MAX_NAME characters ('' for none)."""
    if not isinstance(name, str):
        return ""
    text = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:MAX_NAME]


def save_learner(folder: Path, name: object) -> str:
    """Write the learner's (cleaned) name beside the run; returns it ('' writes nothing)."""
    name = clean_name(name)
    if name:
        runs.write_json(Path(folder) / LEARNER_FILE, {"name": name})
    return name


def learner_of(folder: Path) -> str:
    return clean_name((runs.read_json(Path(folder) / LEARNER_FILE) or {}).get("name"))


# ------------------------------------------------------------------ rows

def _network(settings: dict) -> str:
    return str(settings.get("preset") or "?")


def _last_epoch_accuracy(epoch_log: list) -> tuple[Optional[float], str]:
    for row in reversed(epoch_log or []):
        for key, where in (("val_accuracy", "validation"), ("accuracy", "training")):
            value = row.get(key)
            if value is not None and math.isfinite(value):
                return float(value), where
    return None, ""


def job_row(job) -> RunRow:
    """A row for a job the backend holds (its latest snapshot, or its final status)."""
    snap = job.latest
    final = job.final or {}
    accuracy, where = (final.get("test_accuracy"), "test") \
        if final.get("test_accuracy") is not None else \
        _last_epoch_accuracy(snap.epoch_log if snap is not None else [])
    progress = snap.fraction_done if snap is not None else 0.0
    if final.get("status") == "finished":
        progress = 1.0
    return RunRow(run_id=job.run_id, learner=learner_of(job.folder),
                  network=_network(job.settings), dataset=str(job.settings.get("dataset", "?")),
                  state=job.state, progress=float(progress), accuracy=accuracy,
                  measured_on=where, device=getattr(snap, "device", "") or "",
                  live=bool(job.active))


def saved_row(folder: Path) -> Optional[RunRow]:
    """A row for a run known only from its folder (None for a folder that is not a run)."""
    status = runs.read_json(folder / "status.json")
    if status is None or not runs.is_run_id(folder.name):
        return None
    settings = runs.read_json(folder / "settings.json") or {}
    epochs = settings.get("epochs") or 0
    done = status.get("epochs_done") or 0
    accuracy = status.get("test_accuracy")
    return RunRow(run_id=folder.name, learner=learner_of(folder), network=_network(settings),
                  dataset=str(settings.get("dataset", "?")), state=str(status.get("status")),
                  progress=1.0 if status.get("status") == "finished" else
                  min(done / epochs, 1.0) if epochs else 0.0,
                  accuracy=float(accuracy) if accuracy is not None else None,
                  measured_on="test" if accuracy is not None else "",
                  device=str(status.get("device", "")),
                  live=status.get("status") in ACTIVE)


def all_rows(registry, limit: int = 500) -> list[RunRow]:
    """Every run, newest first: the backend's jobs, then the runs directory's other runs (the
    newest ``limit`` folders)."""
    rows = {job.run_id: job_row(job) for job in registry.jobs()}
    folders = sorted((f for f in runs.runs_dir().iterdir() if runs.is_run_id(f.name)),
                     key=lambda f: f.name, reverse=True)[:limit]
    for folder in folders:
        if folder.name not in rows:
            row = saved_row(folder)
            if row is not None:
                rows[folder.name] = row
    return sorted(rows.values(), key=lambda r: r["run_id"], reverse=True)


def leaderboards(rows: list[RunRow], top: int = 10) -> dict[str, list[RunRow]]:
    """Per data set, the runs with a test accuracy, best first (ties: the earlier run)."""
    boards: dict[str, list[RunRow]] = {}
    for row in sorted(rows, key=lambda r: r["run_id"]):
        if row["measured_on"] == "test" and row["accuracy"] is not None:
            boards.setdefault(row["dataset"], []).append(row)
    return {name: sorted(board, key=lambda r: -r["accuracy"])[:top]
            for name, board in sorted(boards.items())}


# ------------------------------------------------------------------ the teacher's actions

class TeacherDesk:
    """What the teacher may do, each call checked against the gate's token.

    ``registry`` is the backend (``playground.training.backends``); ``gate`` an
    ``access.Gate``. Every method raises PermissionError without a valid token.
    """

    def __init__(self, registry, gate):
        self.registry, self.gate = registry, gate

    def _check(self, token: object) -> None:
        if not self.gate.valid(token):
            raise PermissionError("the teacher's view needs the teacher's password")

    def rows(self, token: object) -> list[RunRow]:
        self._check(token)
        self.registry.poll()
        return all_rows(self.registry)

    def stop(self, token: object, run_id: str) -> bool:
        """Stop a run that is training or queued; False when no such run is active."""
        self._check(token)
        job = self.registry.get(run_id) if runs.is_run_id(run_id) else None
        if job is None or not job.active:
            return False
        job.stop()
        return True
