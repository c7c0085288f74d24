"""playground.core.filters against TensorFlow itself (tf.nn.conv2d / max_pool2d / avg_pool2d), over
randomized grids, plus every literal example of the course."""
from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.core import filters, shapes
from tests import reference

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

# OpenCV is the fast path when installed (requirements-dev pins it); the numpy path always runs.
BACKENDS = ["numpy"] + (["opencv"] if importlib.util.find_spec("cv2") else [])


def assert_close(ours, theirs):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    assert ours.dtype == np.float32
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * scale)


# ----------------------------------------------------------------------------------------------
# Randomized grids against TensorFlow
# ----------------------------------------------------------------------------------------------

def conv_cases():
    rng = np.random.default_rng(20261122)
    cases = []
    for i in range(60):
        h, w = int(rng.integers(1, 24)), int(rng.integers(1, 24))
        kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        stride = [1, 2, 3, (1, 2), (3, 1), 4][i % 6]
        padding = ["valid", "same", 0, 1, 2, 3, "SAME"][i % 7]
        layout = ["2d", "3d", "4d", "4d-gray"][i % 4]
        channels = int(rng.integers(1, 5))
        n_filters = int(rng.integers(1, 5))
        p = padding if isinstance(padding, int) else 0
        if padding not in ("same", "SAME") and (kh > h + 2 * p or kw > w + 2 * p):
            kh, kw = min(kh, h + 2 * p), min(kw, w + 2 * p)
        cases.append((i, h, w, kh, kw, stride, padding, layout, channels, n_filters))
    return cases


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", conv_cases(), ids=lambda c: "-".join(map(str, c)))
def test_convolve_matches_tf_conv2d(case, backend):
    i, h, w, kh, kw, stride, padding, layout, channels, n_filters = case
    rng = np.random.default_rng(i)
    if layout == "2d":
        image, kernel = rng.random((h, w)), rng.standard_normal((kh, kw))
    elif layout == "3d":
        image, kernel = rng.random((h, w, channels)), rng.standard_normal((kh, kw, channels))
    elif layout == "4d":
        image = rng.random((h, w, channels)) * 255
        kernel = rng.standard_normal((kh, kw, channels, n_filters))
    else:
        image, kernel = rng.random((h, w)), rng.standard_normal((kh, kw, 1, n_filters))
    ours = filters.convolve(image, kernel, stride, padding, backend=backend)
    theirs = reference.conv(image, kernel, stride, padding)
    assert_close(ours, theirs)
    sh, sw = shapes.as_pair("stride", stride)
    assert ours.shape[:2] == (shapes.output_size(h, kh, sh, padding),
                              shapes.output_size(w, kw, sw, padding))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kernel_name", list(filters.KERNELS))
def test_every_bank_kernel_matches_tf_on_a_photo_sized_image(kernel_name, backend):
    rng = np.random.default_rng(7)
    image = rng.random((61, 83)).astype(np.float32)
    kernel = filters.KERNELS[kernel_name]
    for stride, padding in [(1, "same"), (2, "valid"), (3, "same")]:
        assert_close(filters.convolve(image, kernel, stride, padding, backend=backend),
                     reference.conv(image, kernel, stride, padding))


def test_large_kernel_uses_the_same_numbers_as_tf():
    # OpenCV switches to a DFT for big kernels; the numbers must not move.
    rng = np.random.default_rng(3)
    image, kernel = rng.random((90, 70)), rng.standard_normal((15, 13))
    for backend in BACKENDS:
        assert_close(filters.convolve(image, kernel, (2, 1), "same", backend=backend),
                     reference.conv(image, kernel, (2, 1), "same"))


def pool_cases():
    rng = np.random.default_rng(99)
    cases = []
    for i in range(60):
        h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        size = [1, 2, 3, (2, 3), 4, (3, 1)][i % 6]
        stride = [None, 1, 2, (1, 2), 3][i % 5]
        padding = ["valid", "same", 1, "same", 0][i % 5]
        mode = ["max", "avg", "min"][i % 3]
        ph, pw = shapes.as_pair("size", size)
        if isinstance(padding, int) and padding >= min(ph, pw):
            padding = "same"
        p = padding if isinstance(padding, int) else 0
        if padding != "same":
            h, w = max(h, ph - 2 * p), max(w, pw - 2 * p)
        channels = [0, 1, 3][i % 3]
        cases.append((i, h, w, size, stride, padding, mode, channels))
    return cases


@pytest.mark.parametrize("case", pool_cases(), ids=lambda c: "-".join(map(str, c)))
def test_pool_matches_tf(case):
    i, h, w, size, stride, padding, mode, channels = case
    rng = np.random.default_rng(i)
    x = rng.standard_normal((h, w) if channels == 0 else (h, w, channels))
    assert_close(filters.pool(x, size, stride, padding, mode),
                 reference.pool(x, size, stride, padding, mode))


# ----------------------------------------------------------------------------------------------
# The course's examples, literally
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_course_3x3_ones_2x2_valid(backend):
    out = filters.convolve(filters.toy_image(3, 3), np.ones((2, 2)), backend=backend)
    np.testing.assert_array_equal(out, [[12, 16], [24, 28]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_course_3x3_ones_2x2_same(backend):
    out = filters.convolve(filters.toy_image(3, 3), np.ones((2, 2)), padding="same",
                           backend=backend)
    np.testing.assert_array_equal(out, [[12, 16, 9], [24, 28, 15], [15, 17, 9]])


def test_course_three_filters_weights_1_10_minus1_give_three_maps():
    kernel = np.stack([np.full((2, 2), v) for v in (1, 10, -1)], axis=-1)[:, :, None, :]
    out = filters.convolve(filters.toy_image(3, 3), kernel)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[:, :, 0], [[12, 16], [24, 28]])
    np.testing.assert_array_equal(out[:, :, 1], [[120, 160], [240, 280]])
    np.testing.assert_array_equal(out[:, :, 2], [[-12, -16], [-24, -28]])


def test_course_symbolic_first_output_is_w1_plus_2w2_plus_4w3_plus_5w4():
    field = filters.receptive_field(filters.toy_image(3, 3), 2, 0, 0)
    np.testing.assert_array_equal(field["patch"], [[1, 2], [4, 5]])
    w = np.array([[3.0, -2.0], [0.5, 7.0]])
    assert filters.convolve(filters.toy_image(3, 3), w)[0, 0] == 3 - 4 + 2 + 35


def test_course_max_pool_4x4_2x2_stride2():
    np.testing.assert_array_equal(filters.pool(filters.toy_image(4, 4), 2, 2),
                                  [[6, 8], [14, 16]])


def test_course_max_pool_mixed_4x4():
    x = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
    np.testing.assert_array_equal(filters.pool(x, 2, 2), [[6, 8], [3, 4]])


def test_course_same_max_pool_2x2_stride1_keeps_4321():
    np.testing.assert_array_equal(filters.pool([[4, 3], [2, 1]], 2, 1, "same"),
                                  [[4, 3], [2, 1]])


def test_course_6x6_window5_stride4_valid_is_1x1():
    x = filters.toy_image(6, 6)
    assert filters.pool(x, 5, 4, "valid").shape == (1, 1)
    assert filters.convolve(x, np.ones((5, 5)), 4, "valid").shape == (1, 1)
    assert filters.pool(x, 5, 4, "valid")[0, 0] == 29


def test_course_6x6_window5_stride4_same_max_pool():
    np.testing.assert_array_equal(filters.pool(filters.toy_image(6, 6), 5, 4, "same"),
                                  [[22, 24], [34, 36]])
    assert filters.convolve(filters.toy_image(6, 6), np.ones((5, 5)), 4, "same").shape == (2, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_course_curve_detector_sums_6600_on_the_curve(backend):
    assert filters.convolve(filters.COURSE_CURVE_FIELD_MATCH, filters.COURSE_CURVE,
                            backend=backend)[0, 0] == 6600
    explained = filters.explain_pixel(filters.COURSE_CURVE_FIELD_MATCH, filters.COURSE_CURVE, 0, 0)
    assert explained["total"] == 6600


@pytest.mark.parametrize("backend", BACKENDS)
def test_course_curve_detector_sums_0_off_the_curve(backend):
    assert filters.convolve(filters.COURSE_CURVE_FIELD_MISS, filters.COURSE_CURVE,
                            backend=backend)[0, 0] == 0


def test_course_edge_filters_are_the_course_weights_over_23():
    rows = [[2, 1, 0, -1, -2], [3, 2, 0, -2, -3], [4, 3, 0, -3, -4], [3, 2, 0, -2, -3],
            [2, 1, 0, -1, -2]]
    np.testing.assert_allclose(filters.KERNELS["Course edge 5×5 (vertical edges)"] * 23, rows,
                               atol=1e-5)
    np.testing.assert_allclose(filters.KERNELS["Course edge 5×5 (horizontal edges)"] * 23,
                               np.transpose(rows), atol=1e-5)
    curve = filters.KERNELS["Course curve detector 7×7"]
    assert curve.shape == (7, 7) and set(np.unique(curve)) == {0, 30}


def test_mnist_digit_5_random_3x3_stride2_same_gives_five_14x14_maps():
    digit = np.random.default_rng(0).random((28, 28))
    kernels = filters.random_kernels(5, 3, seed=4)
    assert kernels.shape == (3, 3, 1, 5)
    out = filters.convolve(digit, kernels, 2, "same")
    assert out.shape == (14, 14, 5)
    assert_close(out, reference.conv(digit, kernels, 2, "same"))
    np.testing.assert_array_equal(kernels, filters.random_kernels(5, 3, seed=4))
    assert not np.array_equal(kernels, filters.random_kernels(5, 3, seed=5))


# ----------------------------------------------------------------------------------------------
# pad / receptive_field / explain_pixel agree with convolve
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("h,w,k,stride,padding", [
    (5, 5, 3, 1, "same"), (5, 6, 2, 1, "same"), (7, 4, 3, 2, "same"), (6, 6, 5, 4, "same"),
    (4, 4, 3, 1, 2), (4, 5, (2, 3), (1, 2), "valid"), (3, 3, 2, 1, "same")])
def test_pad_is_tf_padding_with_the_odd_pixel_bottom_right(h, w, k, stride, padding):
    image = np.random.default_rng(1).random((h, w, 2))
    padded, is_pad = filters.pad(image, k, stride, padding)
    kh, kw = shapes.as_pair("k", k)
    sh, sw = shapes.as_pair("s", stride)
    top, bottom = shapes.padding_amounts(h, kh, sh, padding)
    left, right = shapes.padding_amounts(w, kw, sw, padding)
    assert padded.shape == (h + top + bottom, w + left + right, 2)
    assert bottom >= top and right >= left
    np.testing.assert_array_equal(padded[top:top + h, left:left + w], image.astype(np.float32))
    assert is_pad.sum() == padded.shape[0] * padded.shape[1] - h * w
    assert not is_pad[top:top + h, left:left + w].any()
    assert (padded[is_pad] == 0).all()


@pytest.mark.parametrize("h,w,k,stride,padding,channels", [
    (9, 7, 3, 1, "same", 0), (9, 7, 4, 2, "same", 3), (10, 10, 5, 3, 1, 0),
    (6, 6, 2, 2, "valid", 3),
    (5, 8, (3, 2), (2, 3), "same", 0)])
def test_explain_pixel_total_equals_convolve_at_every_pixel(h, w, k, stride, padding, channels):
    rng = np.random.default_rng(5)
    image = rng.random((h, w) if channels == 0 else (h, w, channels))
    kh, kw = shapes.as_pair("k", k)
    kernel = rng.standard_normal((kh, kw) if channels == 0 else (kh, kw, channels))
    out = filters.convolve(image, kernel, stride, padding)
    sh, sw = shapes.as_pair("s", stride)
    for row, col in itertools.product(range(out.shape[0]), range(out.shape[1])):
        explained = filters.explain_pixel(image, kernel, row, col, stride, padding)
        assert explained["top"] == row * sh and explained["left"] == col * sw
        assert explained["patch"].shape == kernel.shape
        assert explained["is_pad"].shape == (kh, kw)
        assert explained["total"] == pytest.approx(float(out[row, col]), rel=1e-4, abs=1e-4)


def test_receptive_field_marks_padding_cells():
    field = filters.receptive_field(filters.toy_image(3, 3), 3, 0, 0, 1, "same")
    assert (field["top"], field["left"]) == (0, 0)
    np.testing.assert_array_equal(field["is_pad"], [[1, 1, 1], [1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(field["patch"], [[0, 0, 0], [0, 1, 2], [0, 4, 5]])


# ----------------------------------------------------------------------------------------------
# Bad arguments: ValueError naming the argument
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,word", [
    (lambda: filters.convolve(np.ones((4, 4)), np.ones((5, 5))), "kernel"),
    (lambda: filters.convolve(np.ones((4, 4)), np.ones((2, 2)), stride=0), "stride"),
    (lambda: filters.convolve(np.ones((4, 4)), np.ones((2, 2)), padding="full"), "padding"),
    (lambda: filters.convolve(np.ones((4, 4)), np.ones((2, 2)), padding=-1), "padding"),
    (lambda: filters.convolve(np.ones((4, 4, 3)), np.ones((2, 2))), "kernel"),
    (lambda: filters.convolve(np.ones((4, 4, 3)), np.ones((2, 2, 2))), "channel"),
    (lambda: filters.convolve(np.ones((4,)), np.ones((2, 2))), "image"),
    (lambda: filters.convolve(np.ones((0, 4)), np.ones((2, 2))), "image"),
    (lambda: filters.convolve(np.full((4, 4), np.nan), np.ones((2, 2))), "image"),
    (lambda: filters.convolve(np.ones((4, 4)), [[1, 2], [3]]), "kernel"),
    (lambda: filters.convolve(np.array([["a"]]), np.ones((1, 1))), "image"),
    (lambda: filters.convolve(np.ones((4, 4)), np.ones((2, 2)), backend="gpu"), "backend"),
    (lambda: filters.pool(np.ones((4, 4)), 5), "pool size"),
    (lambda: filters.pool(np.ones((4, 4)), 2, mode="median"), "mode"),
    (lambda: filters.pool(np.ones((4, 4)), 0), "size"),
    (lambda: filters.pool(np.ones((4, 4)), 2, stride=(1, 2, 3)), "stride"),
    (lambda: filters.pool(np.ones((4, 4)), 2, padding=2), "padding"),
    (lambda: filters.receptive_field(np.ones((4, 4)), 3, 2, 0), "row"),
    (lambda: filters.receptive_field(np.ones((4, 4)), 3, 0, -1), "col"),
    (lambda: filters.pad(np.ones((4, 4)), 0), "kernel_size"),
])
def test_bad_arguments_raise_value_error_naming_them(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_bank_kernels_are_read_only():
    with pytest.raises(ValueError):
        filters.KERNELS["Sobel x (vertical edges)"][0, 0] = 5


def test_normalize_kernel():
    np.testing.assert_allclose(filters.normalize_kernel(np.ones((3, 3))).sum(), 1, rtol=1e-6)
    edge = filters.normalize_kernel(filters.COURSE_EDGE * 23)
    np.testing.assert_allclose(edge, filters.COURSE_EDGE, rtol=1e-6)


def test_edge_magnitude_and_relu():
    np.testing.assert_allclose(filters.edge_magnitude([[3.0]], [[4.0]]), [[5.0]])
    np.testing.assert_array_equal(filters.relu([[-1.0, 2.0]]), [[0.0, 2.0]])


def test_filters_imports_neither_tensorflow_nor_streamlit():
    code = ("import sys, playground.core.filters, playground.datasets.images; "
            "bad = [m for m in ('tensorflow', 'streamlit', 'keras') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0, result.stdout + result.stderr


# ----------------------------------------------------------------------------------------------
# Property-based: any combination is either a ValueError or TensorFlow's numbers
# ----------------------------------------------------------------------------------------------

_any_int = st.one_of(st.integers(-3, 9), st.sampled_from([0, 1, 2.0, 2.5, True, None, "2"]))
_padding = st.one_of(st.sampled_from(["valid", "same", "SAME", "full", "", " same "]),
                     st.integers(-2, 6), st.sampled_from([1.0, 1.5, False, None]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 7), kw=st.integers(1, 7),
       channels=st.integers(0, 3), stride=_any_int, padding=_padding, seed=st.integers(0, 99))
def test_convolve_is_value_error_or_tf(h, w, kh, kw, channels, stride, padding, seed):
    rng = np.random.default_rng(seed)
    image = rng.random((h, w) if channels == 0 else (h, w, channels))
    kernel = rng.standard_normal((kh, kw) if channels == 0 else (kh, kw, channels))
    try:
        ours = filters.convolve(image, kernel, stride, padding)
    except ValueError:
        return
    sh, sw = shapes.as_pair("stride", stride)
    assert_close(ours, reference.conv(image, kernel, (sh, sw), shapes.normalize_padding(padding)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(1, 10), w=st.integers(1, 10), size=_any_int,
       stride=st.one_of(st.none(), _any_int), padding=_padding,
       mode=st.sampled_from(["max", "avg", "min", "MAX", "median", ""]), seed=st.integers(0, 99))
def test_pool_is_value_error_or_tf(h, w, size, stride, padding, mode, seed):
    x = np.random.default_rng(seed).standard_normal((h, w))
    try:
        ours = filters.pool(x, size, stride, padding, mode)
    except ValueError:
        return
    ph, pw = shapes.as_pair("size", size)
    strides = None if stride is None else shapes.as_pair("stride", stride)
    assert_close(ours, reference.pool(x, (ph, pw), strides, shapes.normalize_padding(padding),
                               mode.lower()))


@settings(max_examples=80, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), k=_any_int, stride=_any_int, padding=_padding,
       row=_any_int, col=_any_int)
def test_receptive_field_is_value_error_or_consistent(h, w, k, stride, padding, row, col):
    image = np.arange(h * w, dtype=np.float32).reshape(h, w) + 1
    try:
        field = filters.receptive_field(image, k, row, col, stride, padding)
    except ValueError:
        return
    padded, is_pad = filters.pad(image, k, stride, padding)
    kh, kw = shapes.as_pair("k", k)
    top, left = field["top"], field["left"]
    np.testing.assert_array_equal(field["patch"], padded[top:top + kh, left:left + kw])
    np.testing.assert_array_equal(field["is_pad"], is_pad[top:top + kh, left:left + kw])
