"""Which data a run trains on, saved with the run so that it can be reopened.

Every run folder gets ``dataset.json``: ``{"name", "title", "class_names", "input_shape",
"n_train", "n_test"}``. A run on the learner's own pictures also keeps the prepared arrays
(``data.npz``, uint8 as in :class:`~playground.datasets.base.Dataset`), since the zip or the
photos they came from are not kept. Runs saved before data sets had a choice have no
``dataset.json``: they are MNIST runs.

NumPy only (no TensorFlow): the server writes these files when a run starts and reads them for
the results; the worker reads them to train.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

import numpy as np

from playground.core import runs
from playground.datasets import load_dataset
from playground.datasets.base import BadSource, Dataset, read_npz, to_float, write_npz
from playground.training.settings import MNIST, PICTURES, DataInfo, data_info

INFO_FILE = "dataset.json"
ARRAYS_FILE = "data.npz"

_lock = threading.Lock()
_test_floats: dict[tuple[str, int], np.ndarray] = {}  # (name, id of x_test) -> float copy


def info_dict(info: DataInfo) -> dict:
    return {"name": info.name, "title": info.title, "class_names": list(info.class_names),
            "input_shape": list(info.input_shape), "n_train": info.n_train,
            "n_test": info.n_test}


def write_run_data(folder: Path, settings: dict, data: Optional[Dataset] = None) -> DataInfo:
    """Save what the run trains on into its ``folder`` (before its worker starts)."""
    info = data_info(settings.get("dataset", MNIST.name), data)
    runs.write_json(Path(folder) / INFO_FILE, info_dict(info))
    if info.name == PICTURES:
        write_npz(Path(folder) / ARRAYS_FILE, ((data.x_train, data.y_train),
                                               (data.x_test, data.y_test)))
    return info


def _info_from(raw: Optional[dict]) -> DataInfo:
    if not isinstance(raw, dict):
        return MNIST
    try:
        shape = tuple(int(v) for v in raw["input_shape"])
        names = tuple(str(c) for c in raw["class_names"])
        if len(shape) != 3 or not names:
            return MNIST
        return DataInfo(str(raw["name"]), str(raw.get("title", raw["name"])), shape, names,
                        int(raw.get("n_train", 0)), int(raw.get("n_test", 0)))
    except (KeyError, TypeError, ValueError):
        return MNIST


def run_info(run_id: str) -> DataInfo:
    """The run's data set as saved (MNIST for runs from before the choice, or a damaged
    file)."""
    if not runs.is_run_id(run_id):
        return MNIST
    return _info_from(runs.read_json(runs.run_path(run_id) / INFO_FILE))


def run_dataset(run_id: str) -> Dataset:
    """The run's data set, loaded: a registered one by name, the learner's pictures from the
    run folder. Raises DatasetUnavailable (a registered set not on this machine) or ValueError
    (the saved pictures are missing or damaged)."""
    info = run_info(run_id)
    if info.name != PICTURES:
        return load_dataset(info.name)
    try:
        (x_train, y_train), (x_test, y_test) = read_npz(runs.run_path(run_id) / ARRAYS_FILE)
    except BadSource as err:
        raise ValueError(f"this run's pictures cannot be read: {err}") from None
    return Dataset(PICTURES, x_train, y_train, x_test, y_test, info.class_names,
                   info.input_shape, source="your pictures")


def float_test_pictures(dataset: Dataset) -> np.ndarray:
    """The data set's test pictures as float32 (N, H, W, C) in [0, 1], converted once per
    process (read-only)."""
    if dataset.name == PICTURES:  # one run's own arrays: nothing to share
        return to_float(dataset.x_test)
    key = (dataset.name, id(dataset.x_test))
    with _lock:
        if key not in _test_floats:
            values = to_float(dataset.x_test)
            values.flags.writeable = False
            _test_floats[key] = values
        return _test_floats[key]


def dataset_info(dataset: Dataset) -> DataInfo:
    """A loaded data set's DataInfo (its title from the registry where it has one)."""
    if dataset.name == PICTURES:
        return data_info(PICTURES, dataset)
    return data_info(dataset.name)
