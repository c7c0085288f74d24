"""Pictures in and out of the Filter Lab: decode uploads safely, bundled samples, generated
patterns, working-resolution copies and PNG export.

Pillow only (no streamlit, no tensorflow). Pixel values are float32 in [0, 255] — the scale of
the course's examples (a curve detector of 30s on pixels of 50 sums to 6600).

Every problem with an upload is an :class:`ImageError` (a ``ValueError``) whose message is one
sentence a learner can act on; no other exception leaves :func:`load` or :func:`decode`.
"""
from __future__ import annotations

import io
import math
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from playground.i18n import N_, Later, _

__all__ = [
    "ImageError",
    "Picture",
    "load",
    "decode",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "MAX_ASPECT",
    "FORMATS",
    "WORKING_SIDE",
    "SAMPLES_DIR",
    "samples",
    "load_sample",
    "PATTERNS",
    "pattern",
    "to_gray",
    "resize_longest",
    "to_png",
    "response_to_uint8",
]

MAX_BYTES = 20 * 1024 * 1024   # larger uploads are refused before any decoding
MAX_PIXELS = 40_000_000        # e.g. 7,700×5,200; a 24-megapixel camera photo fits
MIN_SIDE = 8                   # a 3×3 kernel with stride 2 still leaves a few outputs
MAX_ASPECT = 20                # 1×10000 strips are not pictures to put filters on
WORKING_SIDE = 1024            # default longest side of the working copy
# Pillow tries only these decoders: no EPS (Ghostscript), no exotic plugins on untrusted bytes.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "DIB", "TIFF")  # JPEG covers MPO
ACCEPTED_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = ROOT / "sample_images"

# Pillow's decompression-bomb guard (Image.MAX_IMAGE_PIXELS) stays on; our own MAX_PIXELS is
# stricter and is checked on the header before any pixel is decoded.


class ImageError(ValueError):
    """An upload that cannot be used; ``str(error)`` is a one-line message for the user."""


@dataclass
class Picture:
    """A decoded picture: ``pixels`` (H, W, 3) uint8 RGB at full resolution (EXIF orientation
    applied, alpha composited on white) plus what the user may want to know about the file."""

    pixels: np.ndarray
    name: str = ""
    format: str = ""
    mode: str = ""
    frames: int = 1
    notes: list[str] = field(default_factory=list)
    _resized: dict = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self):
        # Shared between reruns (and sessions, through the page's cache): never edited in place.
        self.pixels.setflags(write=False)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) at full resolution."""
        return int(self.pixels.shape[0]), int(self.pixels.shape[1])

    def rgb(self, longest_side: Optional[int] = WORKING_SIDE) -> np.ndarray:
        """(h, w, 3) float32 in [0, 255]; downscaled so max(h, w) <= longest_side (None = full).

        The downscaled uint8 copy is kept (a Lanczos resize of a 24-megapixel photo takes
        ~0.2 s; every rerun of the page asks for the same working copy)."""
        with self._lock:  # one Picture may serve several sessions at once
            if longest_side not in self._resized:
                if len(self._resized) >= 2:
                    self._resized.pop(next(iter(self._resized)))
                self._resized[longest_side] = resize_longest(self.pixels, longest_side)
            resized = self._resized[longest_side]
        return resized.astype(np.float32)

    def gray(self, longest_side: Optional[int] = WORKING_SIDE) -> np.ndarray:
        """(h, w) float32 in [0, 255], ITU-R 601 luma like Pillow's "L"."""
        return to_gray(self.rgb(longest_side))


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------

def _sniff(data: bytes) -> Optional[str]:
    """A message for well-known non-raster files, from their first bytes."""
    head = data[:1024]
    lowered = head.lstrip().lower()
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("ascii", "replace")
        if brand in ("heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"):
            return _("HEIC/HEIF photos are not supported: export it as JPEG or PNG "
                     "(on an iPhone: Settings → Camera → Formats → Most Compatible).")
        if brand in ("avif", "avis"):
            return _("AVIF pictures are not supported: convert it to PNG, JPEG or WebP.")
        return _("This looks like a video or MP4-family file, not a picture.")
    if b"<svg" in lowered or lowered.startswith(b"<?xml"):
        return _("SVG is a vector drawing, not a picture of pixels: export it as PNG first.")
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:200]:
        return _("This is a web page (HTML), not a picture: save the image itself and upload "
                 "that.")
    if head.startswith(b"%PDF"):
        return _("This is a PDF document, not a picture: export the page as PNG or JPEG.")
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return _("This is an archive (zip/gz/7z/rar), not a picture.")
    return None


def _signature(data: bytes) -> Optional[str]:
    """The format a file's magic bytes claim, for the accepted formats."""
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    if data.startswith(b"GIF8"):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _label(name: str) -> str:
    # The name is the user's text: keep it short and free of markup before it reaches a message.
    safe = "".join(ch for ch in str(name) if ch.isalnum() or ch in " ._-()")[:60].strip()
    return f"“{safe}”" if safe else _("The file")


def load(data: bytes, name: str = "", max_bytes: int = MAX_BYTES,
         max_pixels: int = MAX_PIXELS, draft: Optional[int] = None) -> Picture:
    """Decode an uploaded file's bytes into a :class:`Picture`; raise :class:`ImageError`.

    PNG, JPEG, WebP, GIF (first frame), BMP, TIFF (first page). EXIF orientation is applied;
    transparency (alpha, palette or tRNS) is composited on white; palette, 1-bit, grayscale,
    16-bit (scaled, not clipped), 32-bit/float grayscale and CMYK become RGB.
    ``draft``: the caller needs only this many pixels on the short side, so a JPEG may be
    decoded at 1/2, 1/4 or 1/8 of its size (the decoder's own scaling: a 12-megapixel photo
    for a 64-px data set decodes ~6× faster); other formats are decoded whole.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise ImageError(_("Expected the file's bytes, got {type}.",
                           type=type(data).__name__))
    label = _label(name)
    if len(data) == 0:
        raise ImageError(_("{file} is empty (0 bytes).", file=label))
    if len(data) > max_bytes:
        raise ImageError(_("{file} is {size} MB; the limit is {limit} MB.", file=label,
                           size=f"{len(data) / 2**20:.1f}", limit=f"{max_bytes / 2**20:.0f}"))
    sniffed = _sniff(data)
    if sniffed:
        raise ImageError(sniffed)
    try:
        return _decode(data, name, max_pixels, draft)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_("{file} claims more pixels than Pillow's safety limit allows "
                           "(a possible decompression bomb); the limit is {limit} megapixels.",
                           file=label, limit=f"{max_pixels / 1e6:.0f}")) from None
    except MemoryError:
        raise ImageError(_("{file} is too large to decode in memory.", file=label)) from None
    except Exception as error:  # hostile bytes can upset any decoder: the user gets one line
        detail = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise ImageError(_("{file} could not be decoded as a picture (it may be truncated or "
                           "corrupt): {detail}.", file=label, detail=detail)) from None


def _decode(data: bytes, name: str, max_pixels: int, draft: Optional[int] = None) -> Picture:
    label = _label(name)
    with warnings.catch_warnings():
        # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; here it is an error.
        warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF" etc. on hostile files
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.UnidentifiedImageError:
            claimed = _signature(data)
            if claimed:
                raise ImageError(_("{file} starts like a {format} file but could not be "
                                   "decoded (it may be truncated or corrupt).", file=label,
                                   format=claimed)) from None
            raise ImageError(_("{file} is not a picture this lab can read (PNG, JPEG, WebP, "
                               "GIF, BMP or TIFF).", file=label)) from None
        fmt = image.format or ""
        width, height = image.size
        if width * height > max_pixels:
            raise ImageError(_("{file} is {width}×{height} = {megapixels} megapixels; the "
                               "limit is {limit} megapixels.", file=label, width=width,
                               height=height, megapixels=f"{width * height / 1e6:.0f}",
                               limit=f"{max_pixels / 1e6:.0f}"))
        if min(width, height) < MIN_SIDE:
            raise ImageError(_("{file} is only {width}×{height} pixels; each side must be at "
                               "least {minimum} pixels.", file=label, width=width,
                               height=height, minimum=MIN_SIDE))
        if max(width, height) > MAX_ASPECT * min(width, height):
            raise ImageError(_("{file} is {width}×{height} pixels, a strip too thin to filter "
                               "(at most {aspect}:1).", file=label, width=width, height=height,
                               aspect=MAX_ASPECT))
        frames = int(getattr(image, "n_frames", 1) or 1)
        notes = []
        if frames > 1:
            image.seek(0)
            notes.append(Later(N_("{frames} frames/pages: the first one is used."),
                               frames=frames))
        if draft and fmt == "JPEG" and min(width, height) > draft:
            scale = max(int(draft), MIN_SIDE) / min(width, height)
            image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        # Pillow's default (ImageFile.LOAD_TRUNCATED_IMAGES = False) refuses truncated files:
        # a half-received JPEG is an error message, not a grey half-picture.
        image.load()
        mode = image.mode
        image = ImageOps.exif_transpose(image)
        if image.size != (width, height):
            notes.append(Later(N_("Rotated as its EXIF orientation says.")))
        pixels = _to_rgb(image)
    if pixels.shape[0] < MIN_SIDE or pixels.shape[1] < MIN_SIDE:
        raise ImageError(_("{file} decodes to only {width}×{height} pixels.", file=label,
                           width=pixels.shape[1], height=pixels.shape[0]))
    return Picture(pixels=pixels, name=name, format=fmt, mode=mode, frames=frames, notes=notes)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) uint8 RGB, transparency composited on white."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # Pillow's convert("L") clips 16/32-bit values at 255; scale the real range instead.
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            scaled = values / 257.0
        elif mode == "I" and values.min() >= 0 and values.max() <= 65535:
            scaled = values / 257.0 if values.max() > 255 else values
        else:
            lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ImageError(_("The picture holds NaN or infinite values."))
            if mode == "F" and lo >= 0 and hi <= 1:
                scaled = values * 255.0
            else:
                scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else values * 0
        gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    has_alpha = (mode in ("RGBA", "LA", "PA", "La", "RGBa")
                 or (mode in ("P", "L", "RGB", "1") and "transparency" in image.info))
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if mode == "CMYK":
        # Pillow's JPEG decoder already undoes Adobe's inverted CMYK, so plain convert is right.
        return np.asarray(image.convert("RGB"))
    return np.asarray(image.convert("RGB"))


def decode(data: bytes, name: str = "", longest_side: Optional[int] = None) -> np.ndarray:
    """Upload bytes -> (H, W, 3) float32 RGB in [0, 255] (full resolution unless longest_side);
    raises :class:`ImageError`."""
    return load(data, name).rgb(longest_side)


# ----------------------------------------------------------------------------------------------
# Sizes and colours
# ----------------------------------------------------------------------------------------------

def resize_longest(pixels: np.ndarray, longest_side: Optional[int]) -> np.ndarray:
    """Downscale (never upscale) so max(h, w) <= longest_side, with Pillow's Lanczos filter.

    pixels (H, W) or (H, W, 3) uint8 -> same dtype; float input is resized channel by channel
    in Pillow's "F" mode. ``None`` returns the input unchanged.
    """
    if longest_side is None:
        return pixels
    longest_side = int(longest_side)
    if longest_side < MIN_SIDE:
        raise ValueError(f"longest_side must be >= {MIN_SIDE}, got {longest_side}")
    h, w = pixels.shape[:2]
    if max(h, w) <= longest_side:
        return pixels
    scale = longest_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if pixels.dtype == np.uint8:
        return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS,
                                                         reducing_gap=3.0))
    planes = pixels[:, :, None] if pixels.ndim == 2 else pixels
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(planes[:, :, c],
                                                                    dtype=np.float32), "F")
                               .resize(size, Image.Resampling.LANCZOS))
                    for c in range(planes.shape[2])], axis=2)
    return out[:, :, 0] if pixels.ndim == 2 else out


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float/uint8 RGB -> (H, W) float32 luma 0.299 R + 0.587 G + 0.114 B.

    Channel by channel, so a uint8 photo is never copied whole to float32 (480 MB at 40 MP).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.float32, copy=False)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be (H, W, 3), got shape {rgb.shape}")
    gray = np.multiply(rgb[:, :, 0], np.float32(0.299), dtype=np.float32)
    gray += np.multiply(rgb[:, :, 1], np.float32(0.587), dtype=np.float32)
    gray += np.multiply(rgb[:, :, 2], np.float32(0.114), dtype=np.float32)
    return gray


# ----------------------------------------------------------------------------------------------
# Bundled pictures and generated patterns
# ----------------------------------------------------------------------------------------------

SAMPLE_TITLES = {
    "chelsea.png": N_("Chelsea the cat"),
    "coffee.png": N_("Coffee cup"),
    "astronaut.png": N_("Astronaut Eileen Collins"),
    "camera.png": N_("Cameraman (grayscale)"),
    "rocket.jpg": N_("Falcon 9 launch"),
}


def samples() -> dict[str, Path]:
    """Display title -> path of each bundled photo in sample_images/."""
    found = {}
    for filename, title in SAMPLE_TITLES.items():
        path = SAMPLES_DIR / filename
        if path.exists():
            found[title] = path
    return found


def load_sample(title: str) -> Picture:
    """A bundled photo (by display title) or a generated pattern (by PATTERNS key)."""
    if title in PATTERNS:
        return Picture(pixels=pattern(title), name=title, format="generated", mode="L")
    paths = samples()
    if title not in paths:
        raise ValueError(f"title must be one of {list(paths) + list(PATTERNS)}, got {title!r}")
    return load(paths[title].read_bytes(), paths[title].name)


def _canvas(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (size, size), 0)
    return image, ImageDraw.Draw(image)


def _checkerboard(size: int) -> np.ndarray:
    cell = max(1, size // 8)
    y, x = np.indices((size, size))
    return (((y // cell + x // cell) % 2) * 255).astype(np.uint8)


def _circles(size: int) -> np.ndarray:
    image, draw = _canvas(size)
    for i, r in enumerate(range(size // 2 - 4, 4, -max(4, size // 16))):
        c = size // 2
        draw.ellipse((c - r, c - r, c + r, c + r), fill=255 if i % 2 == 0 else 0)
    return np.asarray(image)


def _stripes(size: int) -> np.ndarray:
    y, x = np.indices((size, size))
    period = max(4, size // 10)
    vertical = ((x // (period // 2)) % 2) * 255
    diagonal = (((x + y) // (period // 2)) % 2) * 255
    return np.where(y < size // 2, vertical, diagonal).astype(np.uint8)


def _curve(size: int) -> np.ndarray:
    # A bright curve on black like the one the course's curve detector looks for (a mouse's back).
    image, draw = _canvas(size)
    w = max(2, size // 40)
    box = (size * 0.15, size * 0.25, size * 1.35, size * 1.45)
    draw.arc(box, start=180, end=270, fill=255, width=w)
    draw.arc((size * 0.05, size * 0.55, size * 0.6, size * 1.1), start=200, end=320,
             fill=160, width=w)
    return np.asarray(image)


PATTERNS = {
    N_("Pattern: checkerboard"): _checkerboard,
    N_("Pattern: circles"): _circles,
    N_("Pattern: stripes"): _stripes,
    N_("Pattern: a drawn curve"): _curve,
}


def pattern(name: str, size: int = 256) -> np.ndarray:
    """A generated test picture (size, size, 3) uint8 (gray in all three channels)."""
    if name not in PATTERNS:
        raise ValueError(f"name must be one of {list(PATTERNS)}, got {name!r}")
    if not isinstance(size, int) or size < 16:
        raise ValueError(f"size must be an int >= 16, got {size!r}")
    gray = PATTERNS[name](size)
    return np.repeat(gray[:, :, None], 3, axis=2)


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------

def response_to_uint8(values: np.ndarray, signed: Optional[bool] = None) -> np.ndarray:
    """Float array -> uint8 for a picture: signed values map 0 to mid-grey (128) and ±max|v| to
    0/255; non-negative values (images, ReLU, pooling) map [0, max] to [0, 255]."""
    values = np.asarray(values, dtype=np.float32)
    if signed is None:
        signed = bool((values < 0).any())
    if signed:
        bound = float(np.abs(values).max()) or 1.0
        scaled = 127.5 + values * (127.5 / bound)
    else:
        top = float(values.max()) if values.size else 0.0
        scaled = values * (255.0 / (top or 1.0))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def to_png(values: np.ndarray, signed: Optional[bool] = None) -> bytes:
    """(H, W) or (H, W, 3) float -> PNG bytes (see :func:`response_to_uint8`)."""
    values = np.asarray(values)
    pixels = values if values.dtype == np.uint8 else response_to_uint8(values, signed)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()
