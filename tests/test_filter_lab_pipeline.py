"""playground.filter_lab.pipeline (colour modes, stacks, ReLU, pooling, downloads) against
TensorFlow, plus the course helpers (formula, symbolic form, MNIST maps)."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from playground.core import filters
from playground.datasets import images
from playground.filter_lab import pipeline
from tests import reference

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

RNG = np.random.default_rng(11)
RGB = (RNG.random((37, 45, 3)) * 255).astype(np.float32)
SOBEL = ("Sobel x (vertical edges)", "Sobel y (horizontal edges)")


def close(a, b):
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("stride,padding", [(1, "same"), (2, "valid"), (3, 1)])
def test_grayscale_stack_is_one_conv_layer(stride, padding):
    names = ("Course edge 5×5 (vertical edges)", "Course edge 5×5 (horizontal edges)",
             "Course curve detector 7×7")
    settings = pipeline.LabSettings(kernels=names, stride=stride, padding=padding,
                                    pool_mode="none", relu=False)
    result = pipeline.run(RGB, settings)
    layer = np.stack(pipeline.layer_kernels(settings), axis=-1)[:, :, None, :]
    assert layer.shape == (7, 7, 1, 3)
    close(result.response, reference.conv(images.to_gray(RGB), layer, stride, padding))
    assert result.response.shape[2] == 3 and result.pooled is None


def test_rgb_sum_mode_is_a_3_channel_filter():
    settings = pipeline.LabSettings(kernels=SOBEL, colour=pipeline.RGB_SUM, pool_mode="none",
                                    relu=False, padding="valid")
    result = pipeline.run(RGB, settings)
    kernel4 = np.stack([np.repeat(filters.KERNELS[n][:, :, None], 3, axis=2) for n in SOBEL],
                       axis=-1)
    close(result.response, reference.conv(RGB, kernel4, 1, "valid"))


def test_each_rgb_channel_mode_is_a_depthwise_conv():
    settings = pipeline.LabSettings(kernels=(SOBEL[0],), colour=pipeline.EACH_RGB,
                                    pool_mode="none", relu=False, stride=2)
    result = pipeline.run(RGB, settings)
    depthwise = np.repeat(filters.KERNELS[SOBEL[0]][:, :, None, None], 3, axis=2)
    expected = tf.nn.depthwise_conv2d(RGB[None], depthwise, [1, 2, 2, 1], "SAME").numpy()[0]
    close(result.response, expected)
    assert result.names == [f"{SOBEL[0]} · {c}" for c in "RGB"]
    assert result.picture("response", 0).shape == expected.shape


@pytest.mark.parametrize("colour,channel", [("Red channel", 0), ("Green channel", 1),
                                            ("Blue channel", 2)])
def test_single_channel_modes(colour, channel):
    settings = pipeline.LabSettings(kernels=(SOBEL[1],), colour=colour, pool_mode="none",
                                    relu=False)
    result = pipeline.run(RGB, settings)
    close(result.response[:, :, 0], filters.convolve(RGB[:, :, channel],
                                                     filters.KERNELS[SOBEL[1]], 1, "same"))


@pytest.mark.parametrize("mode", ["max", "avg", "min"])
def test_relu_then_pool_matches_tf(mode):
    settings = pipeline.LabSettings(kernels=SOBEL, relu=True, pool_mode=mode, pool_size=3,
                                    pool_stride=2, pool_padding="same")
    result = pipeline.run(RGB, settings)
    relu = tf.nn.relu(reference.conv(images.to_gray(RGB),
                              np.stack(pipeline.layer_kernels(settings), -1)[:, :, None, :],
                              1, "same"))[None]
    if mode == "max":
        expected = tf.nn.max_pool2d(relu, 3, 2, "SAME")
    elif mode == "avg":
        expected = tf.nn.avg_pool2d(relu, 3, 2, "SAME")
    else:
        expected = -tf.nn.max_pool2d(-relu, 3, 2, "SAME")
    close(result.pooled, expected.numpy()[0])
    assert (result.activated >= 0).all()


def test_small_kernel_centred_in_a_big_one_gives_the_same_same_padding_output():
    settings = pipeline.LabSettings(kernels=(SOBEL[0], "Course curve detector 7×7"),
                                    pool_mode="none", relu=False)
    result = pipeline.run(RGB, settings)
    alone = filters.convolve(images.to_gray(RGB), filters.KERNELS[SOBEL[0]], 1, "same")
    close(result.response[:, :, 0], alone)


def test_edge_magnitude_combines_the_pair():
    settings = pipeline.LabSettings(kernels=SOBEL, pool_mode="none")
    result = pipeline.run(RGB, settings)
    gx, gy = result.response[:, :, 0], result.response[:, :, 1]
    close(result.magnitude["Sobel"], np.sqrt(gx ** 2 + gy ** 2))


def test_explain_matches_the_response_in_every_mode():
    for colour in pipeline.COLOUR_MODES:
        settings = pipeline.LabSettings(kernels=(SOBEL[0], "Course curve detector 7×7"),
                                        colour=colour, stride=2, padding="same")
        result = pipeline.run(RGB, settings)
        for map_index in range(len(result.names)):
            explained = result.explain(map_index, 5, 7)
            assert explained["total"] == pytest.approx(result.value_at(map_index, 5, 7),
                                                       rel=1e-4, abs=1e-3)


def test_custom_kernel_editor_values():
    assert pipeline.custom_kernel([[1, None, "2"], [0, 1.5, float("nan")]]).tolist() == \
        [[1, 0, 2], [0, 1.5, 0]]
    for bad in ([[1, 2], [3]], [["x"]], [], [[1] * 10]):
        with pytest.raises(ValueError, match="custom kernel"):
            pipeline.custom_kernel(bad)
    assert pipeline.resize_rows([[1, 2], [3, 4]], 3, 1) == [[1.0], [3.0], [0.0]]
    settings = pipeline.LabSettings(kernels=(pipeline.CUSTOM,), custom=((1, 1), (1, 1)),
                                    normalize=True)
    np.testing.assert_allclose(pipeline.base_kernel(pipeline.CUSTOM, settings), 0.25)


@pytest.mark.parametrize("kwargs,word", [
    (dict(kernels=()), "kernels"), (dict(kernels=("nope",)), "kernels"),
    (dict(kernels=(pipeline.CUSTOM,)), "custom"), (dict(colour="CMYK"), "colour"),
    (dict(pool_mode="median"), "pool_mode"), (dict(stride=0), "stride"),
    (dict(padding="full"), "padding")])
def test_bad_settings_raise_value_error(kwargs, word):
    with pytest.raises(ValueError, match=word):
        pipeline.LabSettings(**kwargs)


def test_full_resolution_download_is_a_png_of_the_full_picture():
    picture = images.load_sample("Chelsea the cat")
    settings = pipeline.LabSettings(kernels=SOBEL, pool_mode="none")
    data = pipeline.full_resolution_png(picture.pixels, settings, 1)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (451, 300) and image.mode == "L"
    each = pipeline.LabSettings(kernels=SOBEL, colour=pipeline.EACH_RGB, pool_mode="max")
    image = Image.open(io.BytesIO(pipeline.full_resolution_png(picture.pixels, each, 0)))
    assert image.size == (225, 150) and image.mode == "RGB"


@pytest.mark.parametrize("colour", pipeline.COLOUR_MODES)
def test_uint8_pixels_give_the_same_result_as_float(colour):
    pixels = (RNG.random((30, 41, 3)) * 255).astype(np.uint8)
    settings = pipeline.LabSettings(kernels=SOBEL + ("Course curve detector 7×7",),
                                    colour=colour, padding="valid", stride=2)
    close(pipeline.run(pixels, settings).final,
          pipeline.run(pixels.astype(np.float32), settings).final)


def test_download_of_one_filter_has_the_shape_of_its_map_in_a_mixed_size_stack():
    picture = images.load_sample("Coffee cup")
    settings = pipeline.LabSettings(kernels=(SOBEL[0], "Course curve detector 7×7"),
                                    padding="valid", pool_mode="none", relu=False)
    shown = pipeline.run(picture.rgb(None), settings).picture("response", 0)
    image = Image.open(io.BytesIO(pipeline.full_resolution_png(picture.pixels, settings, 0)))
    assert image.size == (shown.shape[1], shown.shape[0])
    expected = images.response_to_uint8(shown, signed=True)
    np.testing.assert_allclose(np.asarray(image, dtype=int), expected.astype(int), atol=1)


def test_course_formula_and_symbolic_form():
    explained = filters.explain_pixel(filters.COURSE_CURVE_FIELD_MATCH, filters.COURSE_CURVE, 0, 0)
    assert pipeline.formula(explained) == "(50·30) + (20·30) + (50·30) + (50·30) + (50·30) = 6600"
    explained = filters.explain_pixel(filters.COURSE_CURVE_FIELD_MISS, filters.COURSE_CURVE, 0, 0)
    assert pipeline.formula(explained) == "every product is 0, so the sum is 0"
    patch = filters.receptive_field(filters.toy_image(3, 3), 2, 0, 0)["patch"]
    assert pipeline.symbolic(patch) == "w1 + 2·w2 + 4·w3 + 5·w4"


def test_mnist_maps_are_five_14x14():
    digit = (np.random.default_rng(2).random((28, 28)) * 255).astype(np.uint8)
    out = pipeline.mnist_maps(digit, seed=3)
    assert out["maps"].shape == (14, 14, 5) and out["kernels"].shape == (3, 3, 1, 5)
    close(out["maps"], reference.conv(digit.astype(np.float32) / 255, out["kernels"], 2, "same"))


@pytest.mark.parametrize("stride,padding", [(1, "same"), (2, "same"), (3, "valid"), (2, 2)])
def test_window_is_the_receptive_field_in_input_coordinates(stride, padding):
    settings = pipeline.LabSettings(kernels=("Course curve detector 7×7",), stride=stride,
                                    padding=padding, pool_mode="none")
    result = pipeline.run(RGB, settings)
    gray = images.to_gray(RGB)
    for row, col in [(0, 0), (3, 2), (result.response.shape[0] - 1, result.response.shape[1] - 1)]:
        top, left, bottom, right = result.window(0, row, col)
        assert (bottom - top, right - left) == (7, 7)
        explained = result.explain(0, row, col)
        # The cells of the window inside the picture are the patch's non-padded cells.
        inside = gray[max(top, 0):bottom, max(left, 0):right]
        np.testing.assert_array_equal(explained["patch"][~explained["is_pad"]], inside.ravel())


def test_download_of_a_blur_is_the_blurred_picture_clipped_not_stretched():
    picture = images.load_sample("Coffee cup")
    settings = pipeline.LabSettings(kernels=("Gaussian blur 3×3",), colour=pipeline.EACH_RGB,
                                    pool_mode="none", relu=False, padding="same")
    image = Image.open(io.BytesIO(pipeline.full_resolution_png(picture.pixels, settings, 0)))
    blurred = np.asarray(image, dtype=int)
    assert blurred.shape == picture.pixels.shape
    # Away from the zero-padded border a blur changes a photo only a little.
    assert np.abs(blurred[5:-5, 5:-5] - picture.pixels[5:-5, 5:-5].astype(int)).mean() < 6
