"""CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 colour 32×32 pictures in 10 classes, 5,000 /
1,000 of each.

No offline package carries it (the archive is ~163 MB), so ``load_cifar10()`` tries, in order:

1. Keras 3's extracted download ``~/.keras/datasets/cifar-10-batches-py-target/
   cifar-10-batches-py/``, then Keras 2's (or a hand-extracted) ``~/.keras/datasets/
   cifar-10-batches-py/``;
2. the archive ``cifar-10-python.tar.gz`` placed in ``~/.keras/datasets/`` or in our cache dir
   (read from the archive in memory, never extracted);
3. ``keras.datasets.cifar10.load_data()``: downloads once (needs the network) into the folder
   of step 1.

The batches are the "python version": pickled dicts with ``b"data"`` uint8 (N, 3072) — the R,
G, B planes of a 32×32 picture, one after the other — and ``b"labels"`` (N ints). They are read
with an unpickler that allows numpy's array reconstruction and nothing else.
"""
from __future__ import annotations

import io
import tarfile
import zlib
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from playground.datasets import base, mnist
from playground.datasets.base import Arrays, BadSource
from playground.i18n import N_

NAME = "cifar10"
# N_: shown translated by the pages (the files name them in English; a saved run keeps these).
CLASS_NAMES = (N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"), N_("dog"),
               N_("frog"), N_("horse"), N_("ship"), N_("truck"))
N_TRAIN, N_TEST = 50_000, 10_000
PER_CLASS = (5_000, 1_000)
IMAGE_SHAPE = (32, 32, 3)
SOURCE = ("Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009), "
          "https://www.cs.toronto.edu/~kriz/cifar.html")
LICENCE = "no licence stated by the authors; free to use for research and teaching, cite them"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
MAX_MEMBER_BYTES = 64 * 2**20  # one real batch is ~31 MB

HOW_TO_GET = ("CIFAR-10 is not available on this machine and could not be downloaded. "
              "Connect to the internet once (Keras downloads it to ~/.keras/datasets/), or copy "
              f"{ARCHIVE_NAME} (from https://www.cs.toronto.edu/~kriz/cifar.html) into "
              "~/.keras/datasets/.")


def parse_batch(data: bytes, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> images uint8 (N, 32, 32, 3) (RGB, channels last), labels uint8 (N,).

    Raises :class:`BadSource` for anything else than a dict with ``b"data"`` uint8 (N, 3072)
    and ``b"labels"`` of N integers 0..9.
    """
    try:
        batch = base.ArraysOnlyUnpickler(io.BytesIO(data), what="a CIFAR-10 batch",
                                         encoding="bytes").load()
    except Exception as err:  # hostile or damaged pickles: a reason, never their code
        raise BadSource(f"{name}: cannot unpickle: {type(err).__name__}: {err}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise BadSource(f"{name} is not a CIFAR-10 batch (a dict with b'data' and b'labels')")
    pixels, labels = batch[b"data"], batch[b"labels"]
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 \
            or pixels.shape[1] != 3072:
        shape = getattr(pixels, "shape", type(pixels).__name__)
        raise BadSource(f"{name}: b'data' must be uint8 (N, 3072), got {shape}")
    try:
        labels = np.asarray(labels)
    except Exception:
        raise BadSource(f"{name}: b'labels' is not a list of integers") from None
    if labels.shape != (len(pixels),) or labels.dtype.kind not in "ui" \
            or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise BadSource(f"{name}: b'labels' must be {len(pixels)} integers 0..9")
    images = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def parse_meta(data: bytes) -> tuple[str, ...]:
    """``batches.meta`` -> the class names (``b"label_names"``)."""
    try:
        meta = base.ArraysOnlyUnpickler(io.BytesIO(data), what="a CIFAR-10 batch",
                                         encoding="bytes").load()
        names = tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n)
                      for n in meta[b"label_names"])
    except Exception as err:
        raise BadSource(f"{META}: {type(err).__name__}: {err}") from None
    return names


def _assemble(read: Callable[[str], bytes]) -> Arrays:
    train = [parse_batch(read(name), name) for name in TRAIN_BATCHES]
    test = parse_batch(read(TEST_BATCH), TEST_BATCH)
    names = parse_meta(read(META))
    if names != CLASS_NAMES:
        raise BadSource(f"{META} names the classes {names}, expected {CLASS_NAMES}")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), test


def read_folder(folder: Path) -> Arrays:
    """The batches in an extracted ``cifar-10-batches-py`` folder (data_batch_1..5,
    test_batch, batches.meta) as ``((x_train, y_train), (x_test, y_test))``."""
    folder = Path(folder)

    def read(name: str) -> bytes:
        path = folder / name
        if not path.is_file():
            raise BadSource(f"no file {path}")
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise BadSource(f"{path} is larger than a CIFAR-10 batch")
        return path.read_bytes()

    return _assemble(read)


def read_archive(source: Union[Path, bytes]) -> Arrays:
    """The batches inside ``cifar-10-python.tar.gz`` (a path or its bytes), read from the
    archive in memory: members ``cifar-10-batches-py/<batch>``, nothing extracted."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(source)) if isinstance(source, bytes) \
            else tarfile.open(Path(source))
    except FileNotFoundError:
        raise BadSource(f"no file {source}") from None
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BadSource(f"not a readable tar archive: {err}") from None
    with tar:
        def read(name: str) -> bytes:
            try:
                member = tar.getmember(f"{FOLDER}/{name}")
            except KeyError:
                raise BadSource(f"the archive has no {FOLDER}/{name}") from None
            if not member.isfile() or member.size > MAX_MEMBER_BYTES:
                raise BadSource(f"{FOLDER}/{name} in the archive is not a batch file")
            try:
                return tar.extractfile(member).read()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
                raise BadSource(f"{FOLDER}/{name}: {err}") from None

        return _assemble(read)


def verify(arrays: Arrays) -> Arrays:
    """The arrays if they are the complete CIFAR-10 (uint8 (50000, 32, 32, 3) /
    (10000, 32, 32, 3), 5,000 / 1,000 of each class), else :class:`BadSource`."""
    return base.check_arrays(arrays, N_TRAIN, N_TEST, IMAGE_SHAPE, PER_CLASS)


def folders() -> list[Path]:
    """Where Keras keeps the extracted batches (Keras 3 first, then Keras 2)."""
    root = base.keras_datasets_dir()
    return [root / "cifar-10-batches-py-target" / FOLDER, root / FOLDER]


def archives() -> list[Path]:
    """Where a hand-placed archive (or Keras 3's kept download) may lie."""
    root = base.keras_datasets_dir()
    return [root / ARCHIVE_NAME, mnist.cache_dir() / ARCHIVE_NAME,
            root / "cifar-10-batches-py-target_archive"]


def _first(paths: list[Path], reader: Callable[[Path], Arrays]) -> Arrays:
    reasons = []
    for path in paths:
        if not path.exists():
            reasons.append(f"no {path}")
            continue
        return reader(path)
    raise BadSource(", ".join(reasons))


# (name, loader) in the order they are tried; tests may monkeypatch this list.
SOURCES: list[tuple[str, Callable[[], Arrays]]] = [
    ("keras folder", lambda: _first(folders(), read_folder)),
    ("archive", lambda: _first(archives(), read_archive)),
    ("keras download", lambda: base.keras_download("cifar10")),
]


def load_cifar10(sources: Optional[list] = None) -> base.Dataset:
    """The whole CIFAR-10 as a :class:`~playground.datasets.base.Dataset`: x uint8
    (50000, 32, 32, 3) / (10000, 32, 32, 3) RGB, y uint8 (N,) in 0..9. Raises
    DatasetUnavailable (how to place the archive) when no source works."""
    (train, test), where = base.first_source(sources or SOURCES, verify, HOW_TO_GET)
    return base.Dataset(NAME, *train, *test, CLASS_NAMES, IMAGE_SHAPE, SOURCE, LICENCE,
                        loaded_from=where)
