"""What a model's classes are called and where its test pictures come from: pure NumPy, no
TensorFlow.

  * ``run_data``            a saved run's data set (its ``dataset.json``; MNIST for older runs)
  * ``default_class_names`` "0".."9" for ten outputs, else "class 0".."class N-1"
  * ``parse_labels``        an uploaded labels file (one class name a line) -> class names
  * ``is_digit_model``      28×28×1 with the classes 0..9: the MNIST digit recipe applies
  * ``matching_datasets``   registered data sets whose pictures and classes fit a model
  * ``held_out_pictures``  (x_test uint8, y_test uint8) of a registered set or a run's own
  * ``as_picture``          one uint8 test picture -> (H, W, C) float32 network input
"""
from __future__ import annotations

import unicodedata
from typing import NamedTuple, Optional, Sequence

import numpy as np

from playground.core import runs
from playground.datasets import dataset_entry, dataset_names, load_dataset
from playground.datasets.base import BadSource, read_npz
from playground.i18n import _

DATA_FILE = "dataset.json"    # written by the Training page for every run (the contract)
ARRAYS_FILE = "data.npz"      # the learner's own pictures, kept with their run
PICTURES = "pictures"         # the data set name of a run on the learner's own pictures
MNIST_NAMES = tuple(str(d) for d in range(10))
MNIST_SHAPE = (28, 28, 1)

MAX_LABELS_BYTES = 64 * 1024
MAX_CLASSES = 1000            # ImageNet's 1,000 classes are the most a bar chart can carry
MAX_NAME_CHARS = 40
# Kept in class names: letters and digits of any script, and a few plain signs. Everything else
# (Markdown, HTML tags, control characters) becomes "_": names are shown in titles and menus.
_NAME_SIGNS = set(" -_.,'+/()")


class ModelData(NamedTuple):
    """What a model was trained on, as far as the inspector knows.

    ``name``: a registered data set, "pictures" (a run's own pictures) or "" (unknown, e.g. an
    uploaded model); ``title`` for the page; ``class_names`` one per output;
    ``input_shape`` (H, W, C).
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]


MNIST = ModelData("mnist", "MNIST handwritten digits", MNIST_NAMES, MNIST_SHAPE)


def default_class_names(n: int) -> tuple[str, ...]:
    """Names for ``n`` outputs when nothing better is known: the digits for 10 (the MNIST-era
    runs and uploads), else "class 0".."class n-1"."""
    return MNIST_NAMES if n == 10 else tuple(_("class {number}", number=i) for i in range(n))


def clean_class_name(text, index: int) -> str:
    """A class name from a file, safe to show: NFC, letters / digits / `` -_.,'+/()`` kept,
    anything else "_", spaces collapsed, at most 40 characters; "class <index>" when empty."""
    text = unicodedata.normalize("NFC", str(text))
    kept = "".join(ch if ch.isalnum() or ch in _NAME_SIGNS else "_" for ch in text)
    kept = " ".join(kept.split())[:MAX_NAME_CHARS].strip()
    return kept or _("class {number}", number=index)


def parse_labels(data: bytes, expected: Optional[int] = None) -> tuple[str, ...]:
    """The bytes of a labels file (UTF-8 text, one class name a line, as ``labels.txt`` beside
    a model) -> cleaned class names. Blank lines at the end are ignored.

    Raises ValueError with a one-line message for an empty, oversized, binary or non-UTF-8
    file, more than 1,000 names, or a count other than ``expected``.
    """
    if not data:
        raise ValueError(_("the labels file is empty"))
    if len(data) > MAX_LABELS_BYTES:
        raise ValueError(_("the labels file is {size} KB; the limit is {limit} KB",
                           size=f"{len(data) / 1024:.0f}", limit=MAX_LABELS_BYTES // 1024))
    if b"\x00" in data:
        raise ValueError(_("the labels file is not text (one class name a line)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(_("the labels file is not UTF-8 text (one class name a line)")
                         ) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(_("the labels file holds no class names"))
    if len(lines) > MAX_CLASSES:
        raise ValueError(_("the labels file has {count} lines; the limit is {limit}",
                           count=len(lines), limit=MAX_CLASSES))
    if expected is not None and len(lines) != expected:
        raise ValueError(_("the labels file names {count} classes but the model has "
                           "{expected} outputs", count=len(lines), expected=expected))
    return tuple(clean_class_name(line, i) for i, line in enumerate(lines))


def is_digit_model(input_shape: Sequence[int], class_names: Sequence[str]) -> bool:
    """True for a 28×28×1 model whose classes are the digits 0..9: it gets MNIST's recipe
    (digit photos centred by mass in a 20×20 box) and the drawing canvas."""
    return tuple(input_shape) == MNIST_SHAPE and tuple(class_names) == MNIST_NAMES


def _data_from(raw) -> ModelData:
    if not isinstance(raw, dict):
        return MNIST
    try:
        shape = tuple(int(v) for v in raw["input_shape"])
        names = raw["class_names"]
        if len(shape) != 3 or not isinstance(names, list) or not 1 <= len(names) <= MAX_CLASSES:
            return MNIST
        name = str(raw.get("name", ""))[:40]
        title = str(raw.get("title") or name)[:80]
        return ModelData(name, title, tuple(clean_class_name(c, i) for i, c in
                                             enumerate(names)), shape)
    except (KeyError, TypeError, ValueError):
        return MNIST


def run_data(run_id: str) -> ModelData:
    """A saved run's data set from its ``dataset.json``; MNIST for runs saved before data sets
    had a choice (no file) and for a damaged file."""
    if not runs.is_run_id(run_id):
        return MNIST
    return _data_from(runs.read_json(runs.run_path(run_id) / DATA_FILE))


def matching_datasets(input_shape: Sequence[int], n_classes: int) -> list[str]:
    """Registered data sets whose pictures have ``input_shape`` and ``n_classes`` classes (no
    data is loaded)."""
    shape = tuple(int(s) for s in input_shape)
    return [name for name in dataset_names()
            if tuple(dataset_entry(name).input_shape) == shape
            and len(dataset_entry(name).class_names) == n_classes]


def held_out_pictures(name: str, run_id: Optional[str] = None) -> tuple[np.ndarray, np.ndarray]:
    """(x_test uint8 (N, H, W) or (N, H, W, 3), y_test uint8 (N,)) of the registered data set
    ``name``, or of run ``run_id``'s own pictures when ``name`` is "pictures".

    Raises DatasetUnavailable (a registered set not on this machine) or ValueError (an unknown
    name, missing or damaged saved pictures), each with a one-line message.
    """
    if name == PICTURES:
        if run_id is None or not runs.is_run_id(run_id):
            raise ValueError("these pictures belong to a saved run")
        try:
            _, (x_test, y_test) = read_npz(runs.run_path(run_id) / ARRAYS_FILE)
        except BadSource as err:
            raise ValueError(f"this run's pictures cannot be read: {err}") from None
        if x_test.dtype != np.uint8 or x_test.ndim not in (3, 4) or len(x_test) != len(y_test):
            raise ValueError("this run's saved pictures are damaged")
        return x_test, y_test
    data = load_dataset(name)
    return data.x_test, data.y_test


def as_picture(image) -> np.ndarray:
    """One uint8 picture (H, W) or (H, W, C), 0..255 -> float32 (H, W, C) in [0, 1], the
    network input (what ``datasets.to_float`` does for a batch)."""
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"a picture must be (H, W) or (H, W, C), got shape {image.shape}")
    scale = 255.0 if np.issubdtype(image.dtype, np.integer) else 1.0
    out = image.astype(np.float32) / np.float32(scale)
    return out[..., None] if out.ndim == 2 else out
