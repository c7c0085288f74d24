"""A corpus of odd and hostile picture uploads, generated in memory (nothing is downloaded).

Each :class:`Case` carries the bytes, a file name as a user would send it, and what must happen:
``ok=True`` cases decode (and ``check`` looks at the pixels), ``ok=False`` cases give an
``ImageError`` whose message contains ``message`` (case-insensitive). Reused by the robustness
tests of other upload boxes: ``CASES``, ``GOOD``, ``BAD``, ``by_name``.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes
    ok: bool
    message: str = ""  # a word the error message must contain (bad cases)
    check: Optional[Callable[[np.ndarray], None]] = None  # (H, W, 3) uint8 -> assert (good cases)

    def __repr__(self) -> str:  # short ids in pytest output
        return self.name


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------

def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def gradient(w: int = 64, h: int = 48) -> np.ndarray:
    """(h, w, 3) uint8: red rises left->right, green top->bottom, blue constant 64."""
    y, x = np.indices((h, w))
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1),
                     np.full((h, w), 64)], axis=2).astype(np.uint8)


def marked(w: int = 40, h: int = 20) -> np.ndarray:
    """(h, w, 3) uint8 grey with a red 6×6 block in the TOP-LEFT corner (to see rotations)."""
    pixels = np.full((h, w, 3), 128, np.uint8)
    pixels[:6, :6] = (255, 0, 0)
    return pixels


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width×height RGB but which carries only a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def jpeg_with_orientation(pixels: np.ndarray, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _save(Image.fromarray(pixels), "JPEG", quality=95, exif=exif.tobytes())


def png_rgb(w: int, h: int) -> bytes:
    return _save(Image.fromarray(gradient(w, h)), "PNG")


# ----------------------------------------------------------------------------------------------
# Checks on decoded pixels (H, W, 3) uint8
# ----------------------------------------------------------------------------------------------

def same_as(expected: np.ndarray, tolerance: int = 0) -> Callable[[np.ndarray], None]:
    def check(pixels: np.ndarray) -> None:
        assert pixels.shape == expected.shape, (pixels.shape, expected.shape)
        diff = np.abs(pixels.astype(int) - expected.astype(int)).max()
        assert diff <= tolerance, f"max difference {diff} > {tolerance}"
    return check


def red_block_at(corner: str, h: int, w: int) -> Callable[[np.ndarray], None]:
    """The marker from :func:`marked` must sit at ``corner`` of an (h, w) picture."""
    def check(pixels: np.ndarray) -> None:
        assert pixels.shape == (h, w, 3), pixels.shape
        rows = slice(0, 4) if corner.startswith("top") else slice(h - 4, h)
        cols = slice(0, 4) if corner.endswith("left") else slice(w - 4, w)
        block = pixels[rows, cols].astype(int)
        assert block[..., 0].min() > 180 and block[..., 1].max() < 80, f"no red block {corner}"
    return check


def uniform(rgb: tuple[int, int, int], tolerance: int = 2) -> Callable[[np.ndarray], None]:
    def check(pixels: np.ndarray) -> None:
        diff = np.abs(pixels.astype(int) - np.array(rgb)).max()
        assert diff <= tolerance, f"expected {rgb} everywhere, max difference {diff}"
    return check


def _good(name, filename, data, check=None) -> Case:
    return Case(name=name, filename=filename, data=data, ok=True, check=check)


def _bad(name, filename, data, message) -> Case:
    return Case(name=name, filename=filename, data=data, ok=False, message=message)


# ----------------------------------------------------------------------------------------------
# The corpus
# ----------------------------------------------------------------------------------------------

def _good_cases() -> list[Case]:
    g = gradient()
    cases = [
        _good("png_rgb", "photo.png", _save(Image.fromarray(g), "PNG"), same_as(g)),
        _good("jpeg_rgb", "photo.jpg", _save(Image.fromarray(g), "JPEG", quality=95),
              same_as(g, tolerance=12)),
        _good("webp_lossless", "photo.webp", _save(Image.fromarray(g), "WEBP", lossless=True),
              same_as(g)),
        _good("webp_lossy", "photo.webp", _save(Image.fromarray(g), "WEBP", quality=90),
              same_as(g, tolerance=24)),
        _good("bmp_rgb", "photo.bmp", _save(Image.fromarray(g), "BMP"), same_as(g)),
        _good("tiff_rgb", "photo.tiff", _save(Image.fromarray(g), "TIFF"), same_as(g)),
        _good("tiff_lzw", "photo.tif", _save(Image.fromarray(g), "TIFF", compression="tiff_lzw"),
              same_as(g)),
        _good("png_named_jpg", "actually_png.jpg", _save(Image.fromarray(g), "PNG"), same_as(g)),
        _good("png_grayscale_L", "gray.png",
              _save(Image.fromarray(g[:, :, 0]), "PNG"),
              same_as(np.repeat(g[:, :, :1], 3, axis=2))),
        _good("jpeg_grayscale", "gray.jpg",
              _save(Image.fromarray(g[:, :, 0]), "JPEG", quality=95),
              same_as(np.repeat(g[:, :, :1], 3, axis=2), tolerance=8)),
        _good("png_bilevel_1", "bits.png",
              _save(Image.fromarray(g[:, :, 0] > 127), "PNG"),
              same_as(np.repeat(np.where(g[:, :, :1] > 127, 255, 0), 3, axis=2)
                      .astype(np.uint8))),
        _good("bmp_bilevel_1", "bits.bmp",
              _save(Image.fromarray(g[:, :, 0] > 127), "BMP"),
              same_as(np.repeat(np.where(g[:, :, :1] > 127, 255, 0), 3, axis=2)
                      .astype(np.uint8))),
        # Every pixel is there; only the end marker is missing: Pillow (and browsers) show it.
        _good("png_without_iend", "noend.png", _save(Image.fromarray(g), "PNG")[:-12],
              same_as(g)),
        _good("minimum_8x8", "tiny.png", png_rgb(8, 8), same_as(gradient(8, 8))),
        _good("strip_20_to_1", "strip.png", png_rgb(160, 8), same_as(gradient(160, 8))),
    ]

    # 16-bit grayscale PNG and TIFF: 65535 must become 255, 32896 (=128*257) 128 — not clipped.
    values16 = np.tile(np.array([0, 257 * 64, 257 * 128, 65535], np.uint16), (16, 4))
    expected16 = np.repeat(np.tile(np.array([0, 64, 128, 255], np.uint8), (16, 4))[:, :, None],
                           3, axis=2)
    cases += [
        _good("png_16bit_gray", "deep.png", _save(Image.fromarray(values16), "PNG"),
              same_as(expected16)),
        _good("tiff_16bit_gray", "deep.tiff", _save(Image.fromarray(values16), "TIFF"),
              same_as(expected16)),
        _good("tiff_float32", "float.tiff",
              _save(Image.fromarray(values16.astype(np.float32) / 65535), "TIFF"),
              same_as(expected16, tolerance=1)),
        _good("tiff_32bit_int_I", "int32.tiff",
              _save(Image.fromarray(values16.astype(np.int32)), "TIFF"),
              same_as(expected16, tolerance=1)),
    ]

    # Transparency is composited on white.
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)
    rgba[:, 15:, 3] = 255  # right half opaque red, left half fully transparent
    expected_rgba = np.full((20, 30, 3), 255, np.uint8)
    expected_rgba[:, 15:] = (255, 0, 0)
    half = np.zeros((20, 30, 4), np.uint8)
    half[...] = (0, 0, 255, 128)  # half-transparent blue on white -> (127, 127, 255)
    la = np.zeros((20, 30, 2), np.uint8)
    la[..., 0], la[:, 15:, 1] = 0, 255  # black, left half transparent
    expected_la = np.full((20, 30, 3), 255, np.uint8)
    expected_la[:, 15:] = 0
    palette = Image.fromarray(expected_rgba).quantize(4)
    transparent_index = palette.getpixel((0, 0))
    cases += [
        _good("png_rgba", "alpha.png", _save(Image.fromarray(rgba), "PNG"),
              same_as(expected_rgba)),
        _good("png_rgba_half", "half.png", _save(Image.fromarray(half), "PNG"),
              uniform((127, 127, 255), tolerance=1)),
        _good("png_LA", "la.png", _save(Image.fromarray(la), "PNG"), same_as(expected_la)),
        _good("png_palette_transparency", "palette.png",
              _save(palette, "PNG", transparency=transparent_index),
              same_as(expected_rgba)),
        _good("gif_transparency", "palette.gif",
              _save(palette, "GIF", transparency=transparent_index), same_as(expected_rgba)),
        _good("webp_alpha", "alpha.webp",
              _save(Image.fromarray(rgba), "WEBP", lossless=True),
              same_as(expected_rgba)),
        _good("tiff_rgba", "alpha.tiff", _save(Image.fromarray(rgba), "TIFF"),
              same_as(expected_rgba)),
    ]

    # Palette images, GIFs (first frame), multi-page TIFF (first page).
    red = Image.new("RGB", (32, 24), (255, 0, 0))
    blue = Image.new("RGB", (32, 24), (0, 0, 255))
    cases += [
        _good("png_palette", "palette.png", _save(Image.fromarray(g).quantize(64), "PNG"),
              same_as(g, tolerance=48)),
        _good("gif_single", "still.gif", _save(red, "GIF"), uniform((255, 0, 0))),
        _good("gif_animated_first_frame", "anim.gif",
              _save(red, "GIF", save_all=True, append_images=[blue, blue], duration=100, loop=0),
              uniform((255, 0, 0))),
        _good("tiff_multipage_first_page", "pages.tiff",
              _save(red, "TIFF", save_all=True, append_images=[blue]), uniform((255, 0, 0))),
    ]

    # CMYK: pure red in CMYK (0, 255, 255, 0) must come back red, not cyan (inversion bugs).
    cmyk = Image.new("CMYK", (32, 24), (0, 255, 255, 0))
    cases += [
        _good("jpeg_cmyk", "print.jpg", _save(cmyk, "JPEG", quality=95),
              uniform((255, 0, 0), tolerance=8)),
        _good("tiff_cmyk", "print.tiff", _save(cmyk, "TIFF"), uniform((255, 0, 0))),
    ]

    # EXIF orientation: the red block is top-left in the stored pixels of a 40 wide × 20 high
    # picture; the viewer must see it where the orientation tag puts it.
    m = marked()
    cases += [
        _good("jpeg_exif_orientation_1", "cam1.jpg", jpeg_with_orientation(m, 1),
              red_block_at("top-left", 20, 40)),
        _good("jpeg_exif_orientation_3_rotate_180", "cam3.jpg", jpeg_with_orientation(m, 3),
              red_block_at("bottom-right", 20, 40)),
        _good("jpeg_exif_orientation_6_rotate_90_cw", "cam6.jpg", jpeg_with_orientation(m, 6),
              red_block_at("top-right", 40, 20)),
        _good("jpeg_exif_orientation_8_rotate_90_ccw", "cam8.jpg", jpeg_with_orientation(m, 8),
              red_block_at("bottom-left", 40, 20)),
        _good("jpeg_exif_orientation_2_mirror", "cam2.jpg", jpeg_with_orientation(m, 2),
              red_block_at("top-right", 20, 40)),
    ]
    return cases


def _bad_cases() -> list[Case]:
    png = png_rgb(64, 48)
    jpeg = _save(Image.fromarray(gradient(64, 48)), "JPEG", quality=90)
    big_jpeg = _save(Image.fromarray(gradient(400, 300)), "JPEG", quality=90)
    webp = _save(Image.fromarray(gradient(64, 48)), "WEBP", quality=90)
    gif = _save(Image.fromarray(gradient(64, 48)).quantize(64), "GIF")
    tiff = _save(Image.fromarray(gradient(64, 48)), "TIFF")
    bmp = _save(Image.fromarray(gradient(64, 48)), "BMP")
    idat_start = png.index(b"IDAT")
    bad_crc = bytearray(png)
    bad_crc[idat_start + 10] ^= 0xFF  # the IDAT payload changes, its CRC no longer matches
    heic = (struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
            + b"\x00" * 200)
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
           b'<circle cx="50" cy="50" r="40"/></svg>')
    ico = _save(Image.fromarray(gradient(32, 32)), "ICO")
    ppm = _save(Image.fromarray(gradient(32, 32)), "PPM")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n"
    zip_bytes = b"PK\x03\x04" + b"\x00" * 100
    return [
        _bad("zero_bytes", "empty.png", b"", "empty"),
        _bad("text_renamed_png", "notes.png", b"hello, this is not a picture\n" * 10,
             "not a picture"),
        _bad("json_renamed_jpg", "data.jpg", b'{"a": [1, 2, 3]}', "not a picture"),
        _bad("utf16_text", "notes.png", "just text".encode("utf-16"), "not a picture"),
        _bad("html_page", "image.png",
             b"<!DOCTYPE html><html><body><img src='x.png'></body></html>", "HTML"),
        _bad("html_lowercase", "page.jpg", b"  <html><head></head></html>", "HTML"),
        _bad("svg", "drawing.svg", svg, "SVG"),
        _bad("svg_with_xml_header", "drawing.png", b'<?xml version="1.0"?>\n' + svg, "SVG"),
        _bad("fake_heic", "IMG_0001.HEIC", heic, "HEIC"),
        _bad("fake_heif_mif1", "photo.heif",
             struct.pack(">I", 16) + b"ftypmif1" + b"\x00" * 100, "HEIC"),
        _bad("mp4_video", "clip.mp4", struct.pack(">I", 24) + b"ftypisom" + b"\x00" * 100,
             "video"),
        _bad("pdf", "scan.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        _bad("zip_renamed_png", "photos.png", zip_bytes, "archive"),
        _bad("keras_model_renamed_png", "model.png",
             b"PK\x03\x04" + b"\x14\x00" + b"config.json" + b"\x00" * 50, "archive"),
        _bad("gzip", "image.png.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 50, "archive"),
        _bad("random_bytes", "noise.png", np.random.default_rng(0).bytes(4096), "not a picture"),
        _bad("null_bytes", "zeros.png", b"\x00" * 1000, "not a picture"),
        _bad("png_signature_only", "sig.png", b"\x89PNG\r\n\x1a\n", "decoded"),
        _bad("png_truncated_half", "half.png", png[:len(png) // 2], "decoded"),
        _bad("png_truncated_in_idat", "cut.png", png[:idat_start + 20], "decoded"),
        _bad("png_bad_crc", "crc.png", bytes(bad_crc), "decoded"),
        _bad("jpeg_soi_only", "soi.jpg", b"\xff\xd8\xff", "decoded"),
        _bad("jpeg_truncated_header", "head.jpg", jpeg[:100], "decoded"),
        _bad("jpeg_truncated_half", "half.jpg", big_jpeg[:len(big_jpeg) // 2], "truncated"),
        _bad("webp_truncated", "half.webp", webp[:len(webp) // 2], "decoded"),
        _bad("gif_truncated", "half.gif", gif[:len(gif) // 2], "decoded"),
        _bad("gif_header_only", "head.gif", b"GIF89a", "decoded"),
        _bad("tiff_truncated", "half.tiff", tiff[:len(tiff) // 3], "decoded"),
        _bad("bmp_truncated", "half.bmp", bmp[:len(bmp) // 2], "decoded"),
        _bad("bmp_corrupt_header", "bad.bmp", b"BM" + b"\xff" * 60, "decoded"),
        _bad("png_claiming_30000x30000", "bomb.png", png_header_claiming(30000, 30000), "pixels"),
        _bad("png_claiming_10000x10000", "bomb2.png", png_header_claiming(10000, 10000),
             "pixels"),
        _bad("png_claiming_8000x8000", "big.png", png_header_claiming(8000, 8000), "megapixels"),
        _bad("one_by_one", "dot.png", png_rgb(1, 1), "at least"),
        _bad("one_by_10000", "line.png", png_rgb(1, 10000), "at least"),
        _bad("10000_by_one", "line2.png", png_rgb(10000, 1), "at least"),
        _bad("seven_by_seven", "small.png", png_rgb(7, 7), "at least"),
        _bad("strip_25_to_1", "strip.png", png_rgb(200, 8), "thin"),
        _bad("ico_format", "favicon.png", ico, "not a picture"),
        _bad("ppm_format", "image.ppm", ppm, "not a picture"),
        _bad("eps_postscript", "figure.eps", eps, "not a picture"),
        _bad("too_many_bytes", "huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (21 * 2**20), "MB"),
    ]


CASES: list[Case] = _good_cases() + _bad_cases()
GOOD = [case for case in CASES if case.ok]
BAD = [case for case in CASES if not case.ok]


def by_name(name: str) -> Case:
    for case in CASES:
        if case.name == name:
            return case
    raise KeyError(name)
