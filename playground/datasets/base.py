"""What every data set shares: the :class:`Dataset` record, the :class:`DatasetUnavailable`
error, the float conversion for a network, and reading sources in order with a cache.

Convention for images (the same as Keras' own ``load_data``): uint8, 0..255, shape
(N, H, W) for one channel (MNIST, Fashion-MNIST, grayscale pictures) and (N, H, W, 3) for colour
(CIFAR-10, the generated shapes, RGB pictures). ``input_shape`` is always (H, W, C), the shape
the network's first layer takes; :func:`to_float` adds the channel axis.

No TensorFlow, no Streamlit here.
"""
from __future__ import annotations

import importlib
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from playground.core import runs

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetUnavailable(Exception):
    """No source gave a valid copy of a data set. ``str(err)`` is one line saying how to get
    it, followed by what was tried; ``err.how_to`` is that advice alone (for a page), and
    ``err.attempts`` lists (source, reason) for every source tried."""

    def __init__(self, how_to: str, attempts: Sequence[tuple[str, str]] = ()):
        self.how_to = " ".join(how_to.split())
        self.attempts = list(attempts)
        tried = "; ".join(f"{name}: {reason}" for name, reason in self.attempts)
        message = how_to + (f" (tried {tried})" if tried else "")
        super().__init__(" ".join(message.split()))  # one line, whatever the reasons held


class BadSource(Exception):
    """One source is missing or its contents fail the checks (the reason is the message)."""


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles builtins (dict, list, tuple, bytes, int) and numpy arrays, nothing else: a
    pickle that names any other global (a function to run) raises UnpicklingError."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype")}

    def __init__(self, file, *, what: str, **kwargs):
        super().__init__(file, **kwargs)
        self._what = what

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in {self._what}")


def keras_download(name: str) -> Arrays:
    """``keras.datasets.<name>.load_data()``: the last source tried, since it imports
    TensorFlow and needs the network. Any failure becomes a BadSource with the reason."""
    try:
        return importlib.import_module(f"keras.datasets.{name}").load_data()
    except Exception as err:  # no network, SSL, HTTP, checksum: a reason, never a traceback
        raise BadSource(f"download failed: {type(err).__name__}: {err}") from None


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set in memory, ready to split into batches.

    ``x_train`` uint8 (N, H, W) or (N, H, W, C), ``y_train`` uint8 (N,) class indices into
    ``class_names``; the same for ``x_test`` / ``y_test``. ``input_shape`` is (H, W, C).
    ``source`` says where the data comes from (authors, address), ``licence`` under which terms,
    ``loaded_from`` which copy this process read ("cache", a folder, "generated", ...), and
    ``notes`` what a learner should know (e.g. files skipped in an uploaded zip).
    The arrays are read-only: one copy is shared by every page of the process.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    source: str = ""
    licence: str = ""
    loaded_from: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        object.__setattr__(self, "notes", tuple(self.notes))
        h, w, c = self.input_shape
        image_shape = (h, w) if c == 1 else (h, w, c)
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dtype != np.uint8 or x.shape[1:] != image_shape:
                raise ValueError(f"x_{split} must be uint8 (N, {', '.join(map(str, image_shape))})"
                                 f", got {x.dtype} {x.shape}")
            if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "ui":
                raise ValueError(f"y_{split} must be integer labels (N,) with N = {len(x)}, "
                                 f"got {y.dtype} {y.shape}")
            if len(y) and int(y.max()) >= len(self.class_names):
                raise ValueError(f"y_{split} holds label {int(y.max())} but there are only "
                                 f"{len(self.class_names)} class names")
            x.flags.writeable = False
            y.flags.writeable = False

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.input_shape[2]

    def class_counts(self, split: str = "train") -> tuple[int, ...]:
        """Pictures per class in ``split`` ("train" or "test")."""
        labels = self.y_train if split == "train" else self.y_test
        return tuple(int(n) for n in np.bincount(labels, minlength=self.num_classes))


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) -> float32 (N, H, W, C) in [0, 1], the network input."""
    x = np.asarray(x)
    out = x.astype(np.float32) / np.float32(255.0)
    return out[..., np.newaxis] if x.ndim == 3 else out


def keras_datasets_dir() -> Path:
    """Keras' download folder ``~/.keras/datasets`` (``$KERAS_HOME`` respected)."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "datasets"


def read_npz(path: Path) -> Arrays:
    """``((x_train, y_train), (x_test, y_test))`` from an npz with Keras' key names; raises
    :class:`BadSource` (never pickles)."""
    path = Path(path)
    if not path.is_file():
        raise BadSource(f"no file {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])
    except Exception as err:  # zip/format/key errors of a damaged file all mean "unusable"
        raise BadSource(f"cannot read {path.name}: {type(err).__name__}: {err}") from None


def write_npz(path: Path, arrays: Arrays) -> Path:
    """Save arrays as an uncompressed npz (fast to read back), atomically."""
    (x_train, y_train), (x_test, y_test) = arrays
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    runs.atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def first_source(sources: Sequence[tuple[str, Callable[[], Arrays]]],
                 verify: Callable[[Arrays], Arrays], how_to: str,
                 cache: Optional[Path] = None) -> tuple[Arrays, str]:
    """Try ``sources`` in order; return the first one's verified arrays and its name.

    A source other than "cache" that passes is written to ``cache`` (a read-only home is not an
    error, just slower next time). Raises :class:`DatasetUnavailable` with ``how_to`` when none
    works.
    """
    attempts: list[tuple[str, str]] = []
    for name, loader in sources:
        try:
            arrays = verify(loader())
        except BadSource as err:
            attempts.append((name, str(err)))
            continue
        if cache is not None and name != "cache":
            try:
                write_npz(cache, arrays)
            except OSError:
                pass
        return arrays, name
    raise DatasetUnavailable(how_to, attempts)


def check_arrays(arrays: Arrays, n_train: int, n_test: int, image_shape: tuple[int, ...],
                 per_class: Optional[tuple[int, int]] = None,
                 num_classes: int = 10) -> Arrays:
    """Return ``arrays`` (labels flattened to (N,) uint8) if they have the expected dtype,
    shapes and, when ``per_class`` = (train, test) is given, exactly that many pictures of each
    class; else raise :class:`BadSource` naming the first difference."""
    try:
        (x_train, y_train), (x_test, y_test) = arrays
    except (TypeError, ValueError):
        raise BadSource("not two (x, y) pairs") from None
    out = []
    for split, x, y, n in (("train", x_train, y_train, n_train), ("test", x_test, y_test, n_test)):
        if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
            raise BadSource(f"{split} data are not arrays")
        if x.dtype != np.uint8 or x.shape != (n, *image_shape):
            raise BadSource(f"x_{split} is {x.dtype} {x.shape}, expected uint8 "
                            f"{(n, *image_shape)}")
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1:] == (1,) else y
        if y.shape != (n,) or y.dtype.kind not in "ui":
            raise BadSource(f"y_{split} is {y.dtype} {y.shape}, expected integers ({n},)")
        if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise BadSource(f"y_{split} holds labels outside 0..{num_classes - 1}")
        y = y.astype(np.uint8, copy=False)
        if per_class is not None:
            want = per_class[0] if split == "train" else per_class[1]
            got = np.bincount(y, minlength=num_classes)
            if not (got == want).all():
                raise BadSource(f"{split} class counts {tuple(int(g) for g in got)}, expected "
                                f"{want} of each")
        out.append((x, y))
    return out[0], out[1]


# ---------------------------------------------------------------------------- for training

@dataclass(frozen=True)
class DataSlice:
    """Arrays ready for ``model.fit``: x float32 (N, H, W, C) in [0, 1], y uint8 (N,) class
    indices; ``validation_data`` is None when nothing is held out."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def validation_data(self) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """``(x_val, y_val)`` for ``model.fit``, or None when the split is 0."""
        return (self.x_val, self.y_val) if len(self.y_val) else None


def training_slice(dataset: Dataset, n_train: int, validation_split: float = 0.0,
                   seed: int = 0, test_float: Optional[np.ndarray] = None,
                   what: str = "pictures") -> DataSlice:
    """``n_train`` training pictures drawn without replacement (by ``seed``) from
    ``dataset.x_train`` (all of them when ``n_train`` is larger), the last
    ``round(n * validation_split)`` held out for validation, plus the whole test set
    (``test_float``: its float copy when the caller keeps one). Same arguments, same pictures.
    ``what`` names the pictures in messages ("digits").
    Raises ValueError for out-of-range arguments."""
    try:
        n_train = int(n_train)
        validation_split = float(validation_split)
    except (TypeError, ValueError):
        raise ValueError(f"n_train must be an integer and validation_split a number, got "
                         f"{n_train!r}, {validation_split!r}") from None
    total = len(dataset.y_train)
    if n_train < 1:
        raise ValueError(f"n_train must be at least 1, got {n_train}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_train = min(n_train, total)
    n_val = int(round(n_train * validation_split))
    if n_train - n_val < 1:
        raise ValueError(f"validation_split {validation_split} leaves no training {what} "
                         f"out of {n_train}")
    order = np.random.default_rng(seed).permutation(total)[:n_train]
    fit, val = order[:n_train - n_val], order[n_train - n_val:]
    x_test = to_float(dataset.x_test) if test_float is None else test_float
    return DataSlice(to_float(dataset.x_train[fit]), dataset.y_train[fit],
                     to_float(dataset.x_train[val]), dataset.y_train[val], x_test,
                     dataset.y_test)
