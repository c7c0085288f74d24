"""Fashion-MNIST (Zalando Research, MIT licence): 60,000 + 10,000 grayscale 28×28 pictures of
clothes in 10 classes, 6,000 / 1,000 of each.

``load_fashion_mnist()`` tries, in order, and verifies what it gets (dtype, shapes, exact class
counts):

1. our own cache ``<cache dir>/fashion_mnist.npz`` (see ``mnist.cache_dir``);
2. Debian's package ``dataset-fashion-mnist``: the four original IDX files, gzipped, in
   ``/usr/share/datasets/fashion-mnist/``. Debian recompressed them, so Keras' checksums would
   reject them: they are read here directly;
3. Keras' download folder ``~/.keras/datasets/fashion-mnist/`` (the same four files);
4. ``keras.datasets.fashion_mnist.load_data()`` (needs the network; keras is imported only here).

IDX format (LeCun): a 4-byte big-endian magic ``0x00 0x00 <type> <ndim>`` (type 0x08 = uint8),
then ``ndim`` big-endian uint32 sizes, then the values. Images: magic 0x00000803 and 16 header
bytes; labels: magic 0x00000801 and 8 header bytes.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Callable

import numpy as np

from playground.datasets import base, mnist
from playground.datasets.base import Arrays, BadSource
from playground.i18n import N_

NAME = "fashion_mnist"
# N_: shown translated by the pages (a saved run keeps these English names).
CLASS_NAMES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
               N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"))
N_TRAIN, N_TEST = 60_000, 10_000
PER_CLASS = (6_000, 1_000)
IMAGE_SHAPE = (28, 28)
SOURCE = "Zalando Research, https://github.com/zalandoresearch/fashion-mnist (Xiao et al. 2017)"
LICENCE = "MIT"
CACHE_NAME = "fashion_mnist.npz"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
         "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
MAX_IDX_BYTES = 64 * 2**20  # the training images are 47 MB unpacked

HOW_TO_GET = ("Fashion-MNIST is not available on this machine. Install it with "
              "`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu, works offline), "
              "or connect to the internet once so Keras can download it to "
              "~/.keras/datasets/fashion-mnist/.")


class IdxError(ValueError):
    """An IDX file that is not what it claims (bad magic, sizes, truncated)."""


def parse_idx(data: bytes, magic: int) -> np.ndarray:
    """The uint8 array of an unpacked IDX file whose first 4 bytes must equal ``magic``
    (0x00000803 for images -> (N, rows, cols), 0x00000801 for labels -> (N,)).

    Raises :class:`IdxError` for a wrong magic number, a short header, or a payload that is
    not exactly the size the header declares (truncated or trailing bytes).
    """
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"IDX file of {len(data)} bytes is shorter than its {header}-byte header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise IdxError(f"IDX magic number is 0x{found:08x}, expected 0x{magic:08x}")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != size:
        raise IdxError(f"IDX header declares {'×'.join(map(str, dims))} = {size} values but "
                       f"{len(data) - header} bytes follow (truncated or damaged)")
    return np.frombuffer(data, dtype=np.uint8, count=size, offset=header).reshape(dims)


def read_idx(path: Path, magic: int, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (gzipped when its name ends in .gz) and :func:`parse_idx` it; a file
    that unpacks to more than ``max_bytes`` is refused. Raises IdxError or OSError."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (EOFError, gzip.BadGzipFile) as err:
        raise IdxError(f"{path.name}: {err}") from None
    if len(data) > max_bytes:
        raise IdxError(f"{path.name} unpacks to more than {max_bytes} bytes")
    return parse_idx(data, magic)


def read_folder(folder: Path) -> Arrays:
    """The four IDX files of ``folder`` as ``((x_train, y_train), (x_test, y_test))``; raises
    :class:`BadSource` when one is missing or damaged."""
    folder = Path(folder)
    arrays = {}
    for key, filename in FILES.items():
        path = folder / filename
        if not path.is_file():
            raise BadSource(f"no file {path}")
        try:
            arrays[key] = read_idx(path, IMAGES_MAGIC if key[0] == "x" else LABELS_MAGIC)
        except (IdxError, OSError) as err:
            raise BadSource(f"{path}: {err}") from None
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def verify(arrays: Arrays) -> Arrays:
    """The arrays if they are the complete Fashion-MNIST (uint8, shapes, 6,000 / 1,000 of
    each class), else :class:`BadSource`."""
    return base.check_arrays(arrays, N_TRAIN, N_TEST, IMAGE_SHAPE, PER_CLASS)


def cache_path() -> Path:
    return mnist.cache_dir() / CACHE_NAME


def keras_dir() -> Path:
    return base.keras_datasets_dir() / "fashion-mnist"


# (name, loader) in the order they are tried; tests may monkeypatch this list.
SOURCES: list[tuple[str, Callable[[], Arrays]]] = [
    ("cache", lambda: base.read_npz(cache_path())),
    ("debian", lambda: read_folder(DEBIAN_DIR)),
    ("keras cache", lambda: read_folder(keras_dir())),
    ("keras download", lambda: base.keras_download("fashion_mnist")),
]


def load_fashion_mnist() -> base.Dataset:
    """The whole Fashion-MNIST as a :class:`~playground.datasets.base.Dataset`: x uint8
    (60000, 28, 28) / (10000, 28, 28), y uint8 (N,) in 0..9. Raises DatasetUnavailable."""
    (train, test), where = base.first_source(SOURCES, verify, HOW_TO_GET, cache_path())
    return base.Dataset(NAME, *train, *test, CLASS_NAMES, (*IMAGE_SHAPE, 1), SOURCE, LICENCE,
                        loaded_from=where)
