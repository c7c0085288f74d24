"""Saved runs read back for the page: logs, test results, galleries, ensembles, the runs list.

NumPy only (no TensorFlow): a run's test results come from the softmax outputs its worker
saved (``test_probabilities.npy``); a run saved without them is evaluated in a spawned process
(``evaluate_in_worker``).
"""
from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TypedDict

import numpy as np

from playground.core import runs
from playground.i18n import _
from playground.training import data as run_data
from playground.training.channels import CONTEXT
from playground.training.snapshot import Snapshot


class SavedRun(TypedDict):
    """Everything saved for a run; logs as lists of dicts (numbers as floats, blanks None)."""
    run_id: str
    path: Path
    settings: dict
    status: dict
    has_model: bool
    epoch_log: list[dict]
    batch_log: list[dict]      # rows of step, samples_seen, loss, accuracy
    layer_stats: list[dict]
    summary: dict


class Evaluation(TypedDict):
    """A run's test results: ``probabilities`` float32 (N, K) for K classes, ``labels`` uint8
    (N,), ``predictions`` int64 (N,), ``matrix`` int64 (K, K) rows = true class, columns =
    predicted; ``class_names`` the K names."""
    run_id: str
    class_names: tuple[str, ...]
    probabilities: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    accuracy: float
    matrix: np.ndarray


class Picked(TypedDict):
    """Test pictures picked from an evaluation: ``indices`` int (n,), ``images`` float32
    (n, H, W) or (n, H, W, 3) in [0, 1], ``captions`` "7→2 (91%)", ``count`` matches before
    the limit."""
    indices: np.ndarray
    images: np.ndarray
    captions: list[str]
    count: int


class Member(TypedDict):
    run_id: str
    accuracy: float


class Ensemble(TypedDict):
    """The average of several runs' softmax outputs on the first ``n`` test digits."""
    members: list[Member]
    accuracy: Optional[float]
    n: int
    skipped: list[str]          # run ids without a usable evaluation


class Series(TypedDict):
    """One run's curves for the comparison chart."""
    name: str
    batch_log: Any              # a snapshot's structured array, or a saved run's rows
    epoch_log: list[dict]


def saved_run(run_id: str) -> Optional[SavedRun]:
    """Everything saved for a run (None if the id is malformed or unknown)."""
    if not runs.is_run_id(run_id):
        return None
    folder = runs.run_path(run_id)
    if not folder.is_dir():
        return None
    return SavedRun(run_id=run_id, path=folder,
                    settings=runs.read_json(folder / "settings.json") or {},
                    status=runs.read_json(folder / "status.json") or {},
                    has_model=(folder / "model.keras").is_file(),
                    epoch_log=read_csv(folder / "history.csv"),
                    batch_log=read_csv(folder / "batches.csv"),
                    layer_stats=read_csv(folder / "layer_stats.csv"),
                    summary=runs.read_json(folder / "summary.json") or {})


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV we wrote; numbers as floats, blanks as None, text kept. [] if missing."""
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


def run_test_probabilities(run_id: str):
    """float32 (N, 10) softmax outputs on the first N test digits, or None if not evaluated."""
    path = runs.run_path(run_id) / "test_probabilities.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def evaluate_in_worker(run_id: str, timeout: float = 300) -> Optional[str]:
    """Evaluate a saved run on the test digits in a spawned process. Returns an error or None."""
    process = CONTEXT.Process(target=_evaluate_entry, args=(run_id,), daemon=True)
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        return _("evaluation took too long and was stopped")
    if process.exitcode != 0:
        return _("evaluation failed (exit code {code})", code=process.exitcode)
    return None


def _evaluate_entry(run_id: str) -> None:
    from playground.training import worker
    worker.evaluate_run(run_id)


# ------------------------------------------------------------------------- results

@functools.lru_cache(maxsize=4)
def _pictures(run_id: str, stamp: float) -> tuple[np.ndarray, np.ndarray]:
    dataset = run_data.run_dataset(run_id)
    return dataset.x_test, dataset.y_test


def run_test_pictures(run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The run's test pictures, uint8 (N, H, W) or (N, H, W, 3), and labels uint8 (N,) — NumPy
    only, no TensorFlow. Raises DatasetUnavailable / ValueError when the data is gone."""
    folder = runs.run_path(run_id)
    try:  # a run's own pictures are read from its folder: a new file, a new read
        stamp = (folder / run_data.ARRAYS_FILE).stat().st_mtime
    except OSError:
        stamp = 0.0
    return _pictures(run_id, stamp)


def run_info(run_id: str):
    """The run's data set (a ``settings.DataInfo``: name, title, shape, class names, sizes)."""
    return run_data.run_info(run_id)


def class_names(run_id: str) -> tuple[str, ...]:
    """The names of the run's classes ("0".."9" for MNIST)."""
    return run_data.run_info(run_id).class_names


def evaluation(run_id: str) -> Optional[Evaluation]:
    """Test results of a saved run from its saved softmax outputs, or None if not evaluated."""
    names = class_names(run_id)
    probs = run_test_probabilities(run_id)
    if probs is None or probs.ndim != 2 or probs.shape[1] != len(names):
        return None
    _, labels = run_test_pictures(run_id)
    if len(probs) > len(labels):
        return None
    labels = labels[:len(probs)]
    predictions = probs.argmax(axis=1)
    k = len(names)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions), 1)
    return Evaluation(run_id=run_id, class_names=names, probabilities=probs, labels=labels,
                      predictions=predictions, accuracy=float((predictions == labels).mean()),
                      matrix=matrix)


def top_k(probabilities, k: int = 3) -> list[tuple[int, float]]:
    """The k most probable classes of one softmax vector, best first: [(class, p), ...]."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(int(d), float(probabilities[d])) for d in order]


def digits_where(result: Evaluation, true: Optional[int] = None,
                 predicted: Optional[int] = None, wrong_only: bool = False,
                 limit: int = 32) -> Picked:
    """Test pictures picked from an evaluation, most confident first (see ``Picked``)."""
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
    x_test, _labels = run_test_pictures(result["run_id"])
    images = x_test[indices].astype(np.float32) / 255.0
    names = [_(name) for name in result["class_names"]]   # English in files, shown translated
    captions = []
    for i in indices:
        best = top_k(result["probabilities"][i], 1)[0]
        captions.append(f"{names[labels[i]]}→{names[best[0]]} ({best[1]:.0%})")
    return Picked(indices=indices, images=images, captions=captions, count=int(mask.sum()))


def top3_table(result: Evaluation, indices) -> list[dict]:
    """Rows for a table: test index, label, then the 3 most probable classes with p."""
    names = [_(name) for name in result["class_names"]]
    rows = []
    for i in indices:
        row = {"test picture": int(i), "label": names[int(result["labels"][i])]}
        for rank, (k, p) in enumerate(top_k(result["probabilities"][i], 3), start=1):
            row[f"#{rank}"] = f"{names[k]} ({p:.1%})"
        rows.append(row)
    return rows


def run_test_picture(run_id: str, index: int):
    """float32 (H, W) or (H, W, 3) in [0, 1] and the label of the run's test picture
    ``index``."""
    x_test, y_test = run_test_pictures(run_id)
    index = int(index)
    if not 0 <= index < len(y_test):
        raise ValueError(f"test picture index must be in 0..{len(y_test) - 1}, got {index}")
    return x_test[index].astype("float32") / 255.0, int(y_test[index])


def random_test_index(limit: int, seed: Optional[int] = None) -> int:
    return int(np.random.default_rng(seed).integers(0, limit))


def ensemble(run_ids: Sequence[str]) -> Ensemble:
    """Average the saved softmax outputs of several runs (the course's ensemble), on the first
    n test pictures that every member was evaluated on. Only runs of one data set can be
    averaged: those of another data set than the first evaluated run's are skipped."""
    found, skipped = [], []
    dataset = None
    for run_id in run_ids:
        info = run_data.run_info(run_id)
        probs = run_test_probabilities(run_id)
        usable = probs is not None and probs.ndim == 2 and probs.shape[1] == \
            len(info.class_names) and dataset in (None, info.name)
        if usable:
            dataset = info.name
            found.append((run_id, probs))
        else:
            skipped.append(run_id)
    if not found:
        return Ensemble(members=[], accuracy=None, n=0, skipped=skipped)
    _, labels = run_test_pictures(found[0][0])
    n = min(min(len(p) for _, p in found), len(labels))
    labels = labels[:n]
    members = [Member(run_id=r, accuracy=float((p[:n].argmax(1) == labels).mean()))
               for r, p in found]
    mean = np.mean([p[:n] for _, p in found], axis=0)
    return Ensemble(members=members, accuracy=float((mean.argmax(1) == labels).mean()), n=n,
                    skipped=skipped)


def saved_runs_table() -> list[dict]:
    """One row per saved run (newest first) for the page's list."""
    rows = []
    for run in runs.list_runs():
        settings, status = run["settings"], run["status"]
        accuracy = status.get("test_accuracy")
        rows.append({"run": run["run_id"],
                     "data": run_data.run_info(run["run_id"]).title,
                     "network": settings.get("preset", "?"),
                     "optimizer": settings.get("optimizer", "?"),
                     "learning rate": settings.get("learning_rate"),
                     "epochs": status.get("epochs_done"),
                     "status": status.get("status", "?"),
                     "test accuracy": None if accuracy is None else round(100 * accuracy, 2)})
    return rows


def run_label(run_id: str) -> str:
    """"20261122-183000-a1b2c3 · Adam 0.001 · Course CNN (2 conv) · mnist" for pickers."""
    settings = runs.read_json(runs.run_path(run_id) / "settings.json") or {}
    return (f"{run_id} · {settings.get('optimizer', '?')} {settings.get('learning_rate', '')}"
            f" · {_(settings.get('preset') or '?')} · {run_data.run_info(run_id).name}")


def ensemble_rows(outcome: Ensemble) -> list[dict]:
    """The ensemble's members as table rows (run label, test accuracy in %)."""
    return [{"run": run_label(m["run_id"]), "test accuracy %": round(100 * m["accuracy"], 2)}
            for m in outcome["members"]]


def comparison_series(run_ids: Sequence[str],
                      live: Callable[[str], Optional[Snapshot]] = lambda run_id: None
                      ) -> list[Series]:
    """Curves of several runs for one chart: a running job's latest snapshot (``live(run_id)``,
    None when the run is not training), else what the run saved."""
    series = []
    for run_id in run_ids:
        snapshot = live(run_id)
        if snapshot is not None:
            series.append(Series(name=run_label(run_id), batch_log=snapshot.batch_log,
                                 epoch_log=snapshot.epoch_log))
            continue
        run = saved_run(run_id)
        series.append(Series(name=run_label(run_id),
                             batch_log=run["batch_log"] if run else [],
                             epoch_log=run["epoch_log"] if run else []))
    return series


def status_stamp(run_id: str) -> float:
    """When the run's status last changed (0 if never): a cache key for its test results."""
    status = runs.read_json(runs.run_path(run_id) / "status.json") or {}
    return float(status.get("updated") or 0)
