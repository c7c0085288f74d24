"""playground.datasets.images: every file of the generated corpus gives its expected outcome, and
nothing but ImageError ever leaves the decoder."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from playground.core import filters
from playground.datasets import images
from tests import corpus


def test_corpus_is_big_enough():
    assert len(corpus.CASES) >= 40
    assert len(corpus.BAD) >= 15
    assert len({case.name for case in corpus.CASES}) == len(corpus.CASES)


@pytest.mark.parametrize("case", corpus.GOOD, ids=repr)
def test_good_file_decodes_correctly(case):
    picture = images.load(case.data, case.filename)
    assert picture.pixels.dtype == np.uint8
    assert picture.pixels.ndim == 3 and picture.pixels.shape[2] == 3
    if case.check:
        case.check(picture.pixels)
    rgb = images.decode(case.data, case.filename)
    assert rgb.dtype == np.float32 and rgb.shape == picture.pixels.shape
    assert 0 <= rgb.min() and rgb.max() <= 255


@pytest.mark.parametrize("case", corpus.BAD, ids=repr)
def test_bad_file_gives_one_line_message(case):
    with pytest.raises(images.ImageError) as info:
        images.load(case.data, case.filename)
    message = str(info.value)
    assert message and "\n" not in message
    assert len(message) < 300
    assert case.message.lower() in message.lower(), message
    assert "Traceback" not in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("cut", [1, 7, 8, 16, 33, 50, 64, 100, 200, 400, 800])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"])
def test_any_prefix_of_a_real_file_is_an_image_error_or_a_picture(fmt, cut):
    image = Image.fromarray(corpus.gradient(64, 48))
    if fmt == "GIF":
        image = image.quantize(64)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    data = buffer.getvalue()
    try:
        picture = images.load(data[:cut], f"x.{fmt.lower()}")
    except images.ImageError:
        return
    assert picture.pixels.shape == (48, 64, 3)


def test_random_byte_flips_never_raise_anything_but_image_error():
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    Image.fromarray(corpus.gradient(64, 48)).save(buffer, format="PNG")
    original = bytearray(buffer.getvalue())
    for _ in range(200):
        data = bytearray(original)
        for position in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[position] = int(rng.integers(0, 256))
        try:
            images.load(bytes(data), "flipped.png")
        except images.ImageError:
            pass


def test_filename_markup_never_reaches_the_message():
    with pytest.raises(images.ImageError) as info:
        images.load(b"", "<script>alert(1)</script>**bold**.png")
    assert "<" not in str(info.value) and "*" not in str(info.value)


def test_pillow_guards_stay_on():
    from PIL import ImageFile
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS >= images.MAX_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_non_bytes_input_is_an_image_error():
    with pytest.raises(images.ImageError):
        images.load("a string", "x.png")


def test_working_resolution_downscales_longest_side_and_keeps_aspect():
    picture = images.load(corpus.png_rgb(2000, 1000), "wide.png")
    assert picture.size == (1000, 2000)
    assert picture.rgb().shape == (512, 1024, 3)
    assert picture.rgb(300).shape == (150, 300, 3)
    assert picture.rgb(None).shape == (1000, 2000, 3)
    assert picture.gray(1024).shape == (512, 1024)
    small = images.load(corpus.png_rgb(64, 48), "small.png")
    assert small.rgb(1024).shape == (48, 64, 3)  # never upscaled


def test_resize_longest_keeps_values_of_a_flat_picture():
    flat = np.full((300, 200), 77.0, np.float32)
    out = images.resize_longest(flat, 100)
    assert out.shape == (100, 67)
    np.testing.assert_allclose(out, 77.0, atol=1e-3)


def test_to_gray_is_pillow_luma():
    rgb = corpus.gradient(64, 48)
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    np.testing.assert_allclose(images.to_gray(rgb), expected, atol=1.0)


@pytest.mark.parametrize("title", list(images.SAMPLE_TITLES.values()))
def test_bundled_samples_decode(title):
    picture = images.load_sample(title)
    assert min(picture.size) >= 256


def test_sample_sources_are_documented():
    sources = (images.SAMPLES_DIR / "SOURCES.md").read_text()
    for filename in images.SAMPLE_TITLES:
        assert filename in sources
    assert "Chelsea the cat" in sources


@pytest.mark.parametrize("name", list(images.PATTERNS))
def test_patterns_are_pictures_with_edges(name):
    pixels = images.pattern(name, 128)
    assert pixels.shape == (128, 128, 3) and pixels.dtype == np.uint8
    edges = filters.convolve(pixels[:, :, 0].astype(np.float32),
                             filters.KERNELS["Sobel x (vertical edges)"])
    assert np.abs(edges).max() > 100


def test_curve_pattern_fires_the_curve_detector():
    gray = images.pattern("Pattern: a drawn curve", 256)[:, :, 0].astype(np.float32)
    response = filters.convolve(gray, filters.COURSE_CURVE, padding="same")
    # 30 * 255 * (cells of the curve under the kernel): several cells line up somewhere.
    assert response.max() >= 30 * 255 * 4


def test_to_png_round_trips_signed_and_positive_values():
    signed = np.array([[-2.0, 0.0], [1.0, 2.0]] * 4, np.float32).reshape(8, 2)
    pixels = np.asarray(Image.open(io.BytesIO(images.to_png(signed))))
    assert pixels.dtype == np.uint8 and pixels.shape == (8, 2)
    assert pixels[0, 0] == 0 and pixels[0, 1] == 128 and pixels[1, 1] == 255
    positive = np.array([[0.0, 10.0]], np.float32)
    pixels = np.asarray(Image.open(io.BytesIO(images.to_png(positive))))
    assert pixels.tolist() == [[0, 255]]
    rgb = corpus.gradient(16, 8).astype(np.float32)
    pixels = np.asarray(Image.open(io.BytesIO(images.to_png(rgb))))
    np.testing.assert_array_equal(pixels, corpus.gradient(16, 8))
