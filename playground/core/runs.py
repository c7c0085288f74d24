"""Where training runs are saved, and writing files so a crash never leaves half a file.

Layout of one saved run, ``<runs_dir>/<run_id>/``:
  ``model.keras``    the trained Keras model
  ``history.csv``    one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, ...)
  ``settings.json``  what the run was started with (preset / spec, optimizer, ...)
  ``status.json``    {"status": "finished" | "stopped" | "failed" | ..., "test_accuracy": ...}

The directory is ``$PLAYGROUND_RUNS_DIR`` or ``<project root>/runs``, so several app replicas
can share one.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
_RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


def runs_dir() -> Path:
    path = Path(os.environ.get("PLAYGROUND_RUNS_DIR") or ROOT / "runs")
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_id() -> str:
    """Sortable by time, unguessable enough to sit in a URL: ``20261122-183000-a1b2c3``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def is_run_id(run_id: Any) -> bool:
    return isinstance(run_id, str) and bool(_RUN_ID.match(run_id))


def run_path(run_id: str) -> Path:
    """The folder of a run. Raises ValueError for anything but a well-formed id (no paths)."""
    if not is_run_id(run_id):
        raise ValueError(f"run_id must look like 20261122-183000-a1b2c3, got {run_id!r}")
    return runs_dir() / run_id


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def remove_partial_files(folder: Path) -> list[str]:
    """Delete what writes cut off by a killed process left behind: the hidden temp files of
    ``atomic_write_bytes`` and of the model checkpoint (``.<name>...tmp...``). Their finished
    counterparts are untouched. Call it only once the writer is known to be dead. Returns the
    names removed."""
    removed = []
    for path in Path(folder).glob(".*"):
        if ".tmp" in path.name and path.is_file():
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(path.name)
    return sorted(removed)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str))


def read_json(path: Path) -> Optional[dict]:
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def update_status(folder: Path, status: str, **extra) -> dict:
    """Merge ``extra``, ``status`` and the time into the run's status.json (written atomically);
    returns the record."""
    record = read_json(folder / "status.json") or {}
    record.update(extra)
    record.update(status=status, updated=time.time())
    write_json(folder / "status.json", record)
    return record


def list_runs() -> list[dict]:
    """Saved runs that have a model, newest first: {"run_id", "path", "settings", "status"}."""
    found = []
    for folder in runs_dir().iterdir():
        if not (folder.is_dir() and is_run_id(folder.name)):
            continue
        if not (folder / "model.keras").is_file():
            continue
        found.append({"run_id": folder.name, "path": folder,
                      "settings": read_json(folder / "settings.json") or {},
                      "status": read_json(folder / "status.json") or {}})
    return sorted(found, key=lambda run: run["run_id"], reverse=True)
