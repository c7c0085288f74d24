"""Pre-processing a picture for a model: one digit the way MNIST was made, or any photo
centre-cropped and resized to the model's input. Pure NumPy and Pillow, no TensorFlow.

  * ``preprocess_digit``   any photo / canvas drawing of one digit -> (28, 28) float32 in [0, 1]
  * ``fit_picture``        any photo -> (H, W, C) float32 in [0, 1] for a model's H×W×C input
  * ``ink_image``          any digit image -> (H, W) float32, white ink on black
  * ``decode_photo``       uploaded bytes -> (H, W, 3) uint8, with this box's limits
  * ``as_digit``           an MNIST uint8 (28, 28) digit -> (28, 28) float32 network input
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from playground.core.shapes import shape_text
from playground.datasets import images
from playground.i18n import _

INPUT_SHAPE = (28, 28, 1)   # MNIST's: the digit recipe's field and the digit models' input
NUM_CLASSES = 10
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000

_BOX = 20     # MNIST: the digit is scaled to fit a 20×20 box ...
_FIELD = 28   # ... and centred by centre of mass in a 28×28 field.
_INK_THRESHOLD = 0.2  # fraction of the stroke's strength below which a pixel is background


def _as_unit_float(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.dtype == object or arr.size == 0:
        raise ValueError(f"image must be a non-empty numeric array, got shape {arr.shape}")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"image must be (H, W) or (H, W, C) with C in 1..4, got {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        top = 65535.0 if arr.dtype.itemsize > 1 and arr.max(initial=0) > 255 else 255.0
        return np.clip(arr.astype(np.float32) / top, 0.0, 1.0)
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError("image contains NaN or infinite values")
    if arr.max(initial=0.0) > 1.0:  # a float image on the 0..255 scale
        arr = arr / 255.0
    return np.clip(arr, 0.0, 1.0)


def _grayscale(arr: np.ndarray) -> np.ndarray:
    """(H, W[, C]) float in [0, 1] -> (H, W) float32; transparent pixels become background."""
    if arr.ndim == 2:
        return arr
    channels = arr.shape[2]
    colour = arr[..., : (3 if channels >= 3 else 1)]
    # ITU-R 601-2 luma, the weights Pillow's convert("L") uses.
    gray = colour[..., 0] if colour.shape[2] == 1 else colour @ np.float32([0.299, 0.587, 0.114])
    if channels in (2, 4):
        alpha = arr[..., -1]
        if alpha.max() <= 0.0:
            return np.zeros(gray.shape, np.float32)
        # A canvas draws ink on a transparent background: lay it on the colour that contrasts
        # with the ink, so black-on-transparent and white-on-transparent both read as a digit.
        ink = float((gray * alpha).sum() / alpha.sum())
        background = 1.0 if ink < 0.5 else 0.0
        gray = gray * alpha + background * (1.0 - alpha)
    return gray.astype(np.float32)


def _border(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    width = max(1, min(h, w) // 20)
    return np.concatenate([gray[:width].ravel(), gray[-width:].ravel(),
                           gray[:, :width].ravel(), gray[:, -width:].ravel()])


def ink_image(image) -> np.ndarray:
    """Any digit image -> (H, W) float32 in [0, 1]: ink white (1) on a black (0) background.

    The background is what the image's border mostly is; a light border means dark-on-light
    and the image is inverted. Background level is subtracted and faint noise (below 20 % of
    the stroke's strength) cleared, so a grey sheet of paper becomes black.
    Raises ValueError when no digit stands out from the background.
    """
    gray = _grayscale(_as_unit_float(image))
    if gray.shape[0] < 2 or gray.shape[1] < 2:
        raise ValueError(_("image is too small to hold a digit: {width}×{height} px",
                           width=gray.shape[1], height=gray.shape[0]))
    background = float(np.median(_border(gray)))
    if background > 0.5:
        gray = 1.0 - gray
        background = 1.0 - background
    ink = gray - background
    strength = float(ink.max())
    if strength < 0.1:
        raise ValueError(_("no digit found: the image is blank (nothing stands out from the "
                           "background)"))
    ink = np.clip(ink / strength, 0.0, 1.0)
    ink[ink < _INK_THRESHOLD] = 0.0
    return ink.astype(np.float32)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 -> (size[1], size[0]) float32, anti-aliased (Pillow, mode F)."""
    out = Image.fromarray(arr.astype(np.float32), mode="F").resize(
        size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def _centre_of_mass(arr: np.ndarray) -> tuple[float, float]:
    total = float(arr.sum())
    rows, cols = np.indices(arr.shape)
    return float((rows * arr).sum() / total), float((cols * arr).sum() / total)


def preprocess_digit(image) -> np.ndarray:
    """One digit image -> (28, 28) float32 in [0, 1], white digit on black, as MNIST was made.

    ``image``: (H, W) or (H, W, C) with C = 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA, e.g.
    a canvas drawing), uint8 / uint16 / bool / float (0..1 or 0..255), dark-on-light or
    light-on-dark. Steps (LeCun et al.'s recipe): grayscale, invert if the background is light,
    crop to the digit's bounding box, scale to fit a 20×20 box keeping the aspect ratio
    (anti-aliased), then place it in a 28×28 field so that its centre of mass is at pixel
    index (row, col) = (14, 14), where MNIST's digits have theirs.
    Raises ValueError for a blank image or one that is not an image array.
    """
    ink = ink_image(image)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    digit = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = digit.shape
    scale = _BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    digit = _resize(digit, size)
    if digit.sum() <= 0:
        raise ValueError(_("no digit found: the strokes vanish when scaled to 20×20 px"))
    h, w = digit.shape
    com_row, com_col = _centre_of_mass(digit)
    # MNIST's digits have their centre of mass at pixel index (14, 14) (measured on the test
    # set: mean 14.0 ± 0.3 on both axes), not at the geometric middle 13.5.
    centre = _FIELD / 2.0
    # Integer placement keeps the strokes crisp; clamped so the digit is never cut off.
    top = int(np.clip(round(centre - com_row), 0, _FIELD - h))
    left = int(np.clip(round(centre - com_col), 0, _FIELD - w))
    out = np.zeros((_FIELD, _FIELD), np.float32)
    out[top:top + h, left:left + w] = digit
    return out


def crop_box(height: int, width: int, target: tuple[int, int]) -> tuple[float, float, float,
                                                                        float]:
    """(left, top, right, bottom) of the largest centred window of an ``height`` × ``width``
    picture with the aspect ratio of ``target`` = (h, w)."""
    th, tw = target
    if width * th > height * tw:           # wider than the target: cut the sides
        keep = height * tw / th
        left = (width - keep) / 2.0
        return left, 0.0, left + keep, float(height)
    keep = width * th / tw                 # taller: cut top and bottom
    top = (height - keep) / 2.0
    return 0.0, top, float(width), top + keep


def fit_picture(image, input_shape) -> np.ndarray:
    """Any picture -> float32 (H, W, C) in [0, 1] for a model whose input is ``input_shape`` =
    (H, W, C) with C = 1 or 3.

    ``image``: (h, w) or (h, w, C) with C in 1..4, uint8 / uint16 / bool / float, as
    ``preprocess_digit`` takes. The largest centred window with the model's aspect ratio is cut
    out and resized to H×W (Lanczos, anti-aliased), channel by channel; C = 1 gets grayscale
    (ITU-R 601-2 luma, as Pillow's convert("L")), C = 3 RGB (a gray picture is repeated).
    Transparent pixels count as white. No inversion, no centring by mass: that is the digit
    recipe. Raises ValueError for a malformed image or shape.
    """
    arr = _as_unit_float(image)
    try:
        height, width, channels = (int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be (H, W, C), got {input_shape!r}") from None
    if channels not in (1, 3) or height < 1 or width < 1:
        raise ValueError(f"input_shape must be H×W×1 or H×W×3, got {shape_text(input_shape)}")
    if arr.ndim == 3 and arr.shape[2] in (2, 4):   # lay transparency on white
        alpha = arr[..., -1:]
        arr = arr[..., :-1] * alpha + (1.0 - alpha)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if channels == 1:
        planes = [_grayscale(arr)]
    else:
        planes = [arr] * 3 if arr.ndim == 2 else [arr[..., i] for i in range(3)]
    box = crop_box(arr.shape[0], arr.shape[1], (height, width))
    out = [np.asarray(Image.fromarray(plane.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.LANCZOS, box=box), dtype=np.float32)
        for plane in planes]
    return np.clip(np.stack(out, axis=-1), 0.0, 1.0).astype(np.float32)


def decode_photo(data: bytes) -> np.ndarray:
    """Bytes of an uploaded picture -> (H, W, 3) uint8 RGB, upright (EXIF orientation applied),
    transparency composited on white.

    The Filter Lab's decoder (:func:`playground.datasets.images.load`): the same format
    whitelist (no EPS or other plugin that would run an outside program), Pillow's
    decompression-bomb guard and size checks, with this box's limits. Raises ValueError
    (``images.ImageError``) with a one-line message.
    """
    return images.load(data, "The photo", max_bytes=MAX_PHOTO_BYTES,
                       max_pixels=MAX_PHOTO_PIXELS).pixels


def as_digit(image) -> np.ndarray:
    """An MNIST uint8 (28, 28) digit (0..255) -> (28, 28) float32 in [0, 1], the network input."""
    image = np.asarray(image)
    if image.shape != INPUT_SHAPE[:2]:
        raise ValueError(f"image must be a 28×28 MNIST digit, got shape {image.shape}")
    scale = 255.0 if np.issubdtype(image.dtype, np.integer) else 1.0
    return (image.astype(np.float32) / np.float32(scale)).astype(np.float32)


def top_class(probabilities) -> int:
    """The predicted digit: the index of the largest probability."""
    return int(np.argmax(probabilities))


def safe_name(text, limit: int = 60) -> str:
    """A layer or model name from a file, reduced to letters, digits and ``_ . -`` for display.

    Names in uploaded models are user-supplied text: Markdown and Plotly titles would render
    links or tags in them, so everything else becomes ``_``.
    """
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "_"
                      for ch in str(text))
    return cleaned[:limit] or "_"


def describe_output(output: np.ndarray) -> str:
    """'28×28×32 · min 0.000 · max 2.714' for one layer's output."""
    return _("{shape} · min {low} · max {high}", shape=shape_text(output.shape),
             low=f"{float(output.min()):.3f}", high=f"{float(output.max()):.3f}")


def output_kind(output: np.ndarray) -> str:
    """'maps' for (H, W, C) outputs, 'vector' for (N,), 'other' otherwise."""
    return {3: "maps", 1: "vector"}.get(np.ndim(output), "other")
