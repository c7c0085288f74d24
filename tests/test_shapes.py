"""playground.core.shapes against what TensorFlow computes, plus the course's worked examples.

Every valid combination of the grids below is run through TensorFlow (tf.nn.conv2d, or
tf.image.extract_patches where conv2d would need strides > 1 together with dilation > 1) and
the shape TF returns is compared with ours. Combinations TensorFlow refuses must make us raise
ValueError too.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from playground.core import shapes
from tests.reference import conv_nhwc, pool_nhwc, refuses, tf_padding

tf = pytest.importorskip("tensorflow")

INPUTS = [(7, 7), (8, 5), (5, 12), (2, 3)]                    # square, rectangular, tiny
KERNELS = [(1, 1), (2, 2), (3, 3), (4, 2), (5, 3)]             # odd, even, rectangular
STRIDES = [(1, 1), (2, 2), (3, 3), (4, 4), (2, 3), (6, 1)]     # incl. stride > kernel
DILATIONS = [1, 2, 3]
PADDINGS = ["valid", "same", 1, 2]

CONV_GRID = list(itertools.product(INPUTS, KERNELS, STRIDES, DILATIONS, PADDINGS))


def _eff(k, d):
    return (k - 1) * d + 1


def _fits(hw, kernel, dilation, padding):
    pad = 2 * padding if isinstance(padding, int) else 0
    return padding == "same" or all(_eff(k, dilation) <= n + pad for n, k in zip(hw, kernel))


VALID_CONV = [case for case in CONV_GRID if _fits(case[0], case[1], case[3], case[4])]
REFUSED_CONV = [case for case in CONV_GRID if not _fits(case[0], case[1], case[3], case[4])]


@pytest.mark.parametrize("hw, kernel, strides, dilation, padding", VALID_CONV)
def test_conv_output_shape_matches_tensorflow(hw, kernel, strides, dilation, padding):
    x = tf.zeros([1, *hw, 2])
    expected = tuple(conv_nhwc(x, kernel, strides, padding, dilation).shape[1:3])
    assert shapes.conv_output_shape((*hw, 2), 4, kernel, strides, padding, dilation) == \
        (*expected, 4)
    assert shapes.output_size(hw[0], kernel[0], strides[0], padding, dilation) == expected[0]
    assert shapes.output_size(hw[1], kernel[1], strides[1], padding, dilation) == expected[1]


@pytest.mark.parametrize("hw, kernel, strides, dilation, padding", REFUSED_CONV)
def test_conv_too_large_kernel_is_refused_like_tensorflow(hw, kernel, strides, dilation, padding):
    # TensorFlow raises, or (explicit padding + dilation) returns an empty output: no layer.
    assert refuses(lambda: conv_nhwc(tf.zeros([1, *hw, 1]), kernel, strides, padding,
                                       dilation))
    with pytest.raises(ValueError, match=r"kernel_size|dilation"):
        shapes.conv_output_shape((*hw, 1), 1, kernel, strides, padding, dilation)


def test_grid_is_large_enough():
    # The issue asks for >= 300 TensorFlow comparisons over these axes.
    assert len(VALID_CONV) >= 300
    assert {k[0] % 2 for k in KERNELS} == {0, 1}
    assert any(s[0] > k[0] for s in STRIDES for k in KERNELS)
    assert {d for d in DILATIONS} == {1, 2, 3}
    assert any(h != w for h, w in INPUTS)


ORACLE_CASES = [((8, 5), (3, 2), (2, 3), 1, "same"), ((7, 7), (2, 2), (1, 1), 3, "valid"),
                ((5, 12), (3, 3), (1, 1), 2, 1), ((8, 5), (4, 2), (3, 1), 1, 2),
                ((7, 7), (5, 3), (1, 1), 2, "same")]


@pytest.mark.parametrize("hw, kernel, strides, dilation, padding", ORACLE_CASES)
def test_extract_patches_oracle_agrees_with_conv2d(hw, kernel, strides, dilation, padding):
    """The extract_patches path used for stride+dilation is itself checked against conv2d."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(1, *hw, 1)), tf.float32)
    w = tf.constant(rng.normal(size=(*kernel, 1, 1)), tf.float32)
    conv = tf.nn.conv2d(x, w, [1, *strides, 1], tf_padding(padding),
                        dilations=[1, dilation, dilation, 1])
    xp = tf.pad(x, tf_padding(padding)) if isinstance(padding, int) else x
    mode = "VALID" if isinstance(padding, int) else padding.upper()
    patches = tf.image.extract_patches(xp, [1, *kernel, 1], [1, *strides, 1],
                                       [1, dilation, dilation, 1], mode)
    via_patches = tf.einsum("bhwk,ko->bhwo", patches, tf.reshape(w, [-1, 1]))
    np.testing.assert_allclose(via_patches.numpy(), conv.numpy(), rtol=1e-5, atol=1e-5)


# --- SAME padding: the split (before, after) must be the one TensorFlow applies -------------
SAME_GRID = list(itertools.product(INPUTS, KERNELS, [(1, 1), (2, 2), (3, 3), (4, 4), (2, 3)],
                                   DILATIONS))


@pytest.mark.parametrize("hw, kernel, strides, dilation", SAME_GRID)
def test_same_padding_is_the_padding_tensorflow_applies(hw, kernel, strides, dilation):
    rng = np.random.default_rng(sum(hw) * 31 + kernel[0] * 7 + strides[0] + dilation)
    x = tf.constant(rng.normal(size=(1, *hw, 1)), tf.float32)
    w = tf.constant(rng.normal(size=(*kernel, 1, 1)), tf.float32)
    top, bottom = shapes.same_padding(hw[0], kernel[0], strides[0], dilation)
    left, right = shapes.same_padding(hw[1], kernel[1], strides[1], dilation)
    same = conv_nhwc(x, kernel, strides, "same", dilation, w).numpy()
    padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
    explicit = conv_nhwc(padded, kernel, strides, "valid", dilation, w).numpy()
    np.testing.assert_allclose(explicit, same, rtol=1e-5, atol=1e-5)
    assert shapes.padding_amounts(hw[0], kernel[0], strides[0], "SAME", dilation) == \
        (top, bottom)


def test_same_padding_odd_pixel_goes_bottom_right_and_the_test_can_tell():
    """With a total pad of 1 TensorFlow pads after; padding before gives different numbers."""
    x = tf.reshape(tf.range(1, 10, dtype=tf.float32), [1, 3, 3, 1])
    w = tf.ones([2, 2, 1, 1])
    assert shapes.same_padding(3, 2) == (0, 1)
    same = tf.nn.conv2d(x, w, 1, "SAME").numpy()
    after = tf.nn.conv2d(x, w, 1, [[0, 0], [0, 1], [0, 1], [0, 0]]).numpy()
    before = tf.nn.conv2d(x, w, 1, [[0, 0], [1, 0], [1, 0], [0, 0]]).numpy()
    np.testing.assert_array_equal(same, after)
    assert not np.array_equal(same, before)
    assert same[0, :, :, 0].tolist() == [[12, 16, 9], [24, 28, 15], [15, 17, 9]]


# --- pooling ---------------------------------------------------------------------------------
POOL_GRID = list(itertools.product(INPUTS, [(1, 1), (2, 2), (3, 3), (2, 3), (4, 4)],
                                   [None, (1, 1), (2, 2), (3, 3), (1, 2)],
                                   ["valid", "same"], ["max", "avg"]))
VALID_POOL = [c for c in POOL_GRID if c[3] == "same" or all(p <= n for n, p in zip(c[0], c[1]))]
REFUSED_POOL = [c for c in POOL_GRID if c not in VALID_POOL]


@pytest.mark.parametrize("hw, size, strides, padding, kind", VALID_POOL)
def test_pool_output_shape_matches_tensorflow(hw, size, strides, padding, kind):
    expected = tuple(pool_nhwc(tf.zeros([1, *hw, 3]), size, strides, padding, kind).shape[1:])
    assert shapes.pool_output_shape((*hw, 3), size, strides, padding) == expected


@pytest.mark.parametrize("hw, size, strides, padding, kind", REFUSED_POOL)
def test_pool_larger_than_input_is_refused_like_tensorflow(hw, size, strides, padding, kind):
    assert refuses(lambda: pool_nhwc(tf.zeros([1, *hw, 1]), size, strides, padding, kind))
    with pytest.raises(ValueError, match="pool_size"):
        shapes.pool_output_shape((*hw, 1), size, strides, padding)


def test_pool_padding_not_smaller_than_window_is_refused_like_tensorflow():
    assert refuses(lambda: pool_nhwc(tf.zeros([1, 4, 9, 1]), (3, 2), (1, 3), 2, "max"))
    with pytest.raises(ValueError, match="^padding"):
        shapes.pool_output_shape((4, 9, 1), (3, 2), (1, 3), 2)


@pytest.mark.parametrize("hw, size, strides, padding", [
    ((7, 5), (3, 3), (2, 2), 1), ((6, 6), (2, 2), None, 1), ((4, 9), (3, 3), (1, 3), 2)])
def test_pool_explicit_padding_matches_tensorflow_max_pool(hw, size, strides, padding):
    expected = tuple(pool_nhwc(tf.zeros([1, *hw, 2]), size, strides, padding, "max").shape[1:])
    assert shapes.pool_output_shape((*hw, 2), size, strides, padding) == expected


# --- the course's worked examples, literal ----------------------------------------------------
def test_lecture_32x32x3_image_six_5x5_filters_gives_28x28x6_and_456_params():
    assert shapes.conv_output_shape((32, 32, 3), 6, 5) == (28, 28, 6)
    assert shapes.conv_param_count(5, 3, 6) == 456
    assert shapes.conv_param_count(5, 3, 6, use_bias=False) == 450


@pytest.mark.parametrize("stride, expected", [(1, 5), (2, 3), (3, 2)])
def test_7x7_input_3x3_filter_n_minus_f_over_s_plus_1(stride, expected):
    assert shapes.output_size(7, 3, stride) == expected


def test_7x7_3x3_stride_3_does_not_fit_and_leaves_one_row_unused():
    report = shapes.axis_report(7, 3, 3)
    assert (report.out, report.used, report.unused, report.remainder) == (2, 6, 1, 1)
    assert not report.fits
    assert shapes.axis_report(7, 3, 2).fits


def test_32x32_5x5_zero_pad_2_keeps_32():
    assert shapes.output_size(32, 5, 1, 2) == 32
    assert shapes.conv_output_shape((32, 32, 3), 10, 5, 1, 2) == (32, 32, 10)
    assert shapes.conv_param_count(5, 3, 10) == 760


def test_course_mnist_cnn_shapes_and_params():
    assert shapes.conv_output_shape((28, 28, 1), 32, 3, padding="same") == (28, 28, 32)
    assert shapes.conv_param_count(3, 1, 32) == 320
    assert shapes.pool_output_shape((28, 28, 32), 2, padding="same") == (14, 14, 32)
    assert shapes.conv_output_shape((14, 14, 32), 64, 3, padding="SAME") == (14, 14, 64)
    assert shapes.conv_param_count(3, 32, 64) == 18496
    assert shapes.pool_output_shape((14, 14, 64), 2, padding="same") == (7, 7, 64)
    assert shapes.pool_output_shape((7, 7, 128), 2, padding="same") == (4, 4, 128)


def test_convnetjs_mnist_shapes():
    assert shapes.conv_output_shape((24, 24, 1), 8, 5, 1, 2) == (24, 24, 8)
    assert shapes.pool_output_shape((24, 24, 8), 2, 2) == (12, 12, 8)
    assert shapes.conv_output_shape((12, 12, 8), 16, 5, 1, 2) == (12, 12, 16)
    assert shapes.pool_output_shape((12, 12, 16), 3, 3) == (4, 4, 16)


def test_alexnet_first_layer_227_11x11_stride_4():
    assert shapes.conv_output_shape((227, 227, 3), 96, 11, 4) == (55, 55, 96)
    assert shapes.conv_param_count(11, 3, 96) == 34944


@pytest.mark.parametrize("n, f, stride, expected", [
    (28, 3, 1, (1, 1)), (3, 2, 1, (0, 1)), (5, 2, 2, (0, 1)), (7, 3, 2, (1, 1)),
    (8, 3, 2, (0, 1)), (4, 1, 2, (0, 0)), (5, 5, 1, (2, 2)), (2, 6, 1, (2, 3))])
def test_same_padding_literal(n, f, stride, expected):
    assert shapes.same_padding(n, f, stride) == expected


def test_same_output_is_ceil_n_over_s_even_for_a_kernel_larger_than_the_input():
    assert shapes.output_size(3, 7, 2, "same") == 2
    assert shapes.output_size(10, 3, 4, "Same") == 3


def test_dilated_kernel_spans_f_minus_1_times_d_plus_1():
    assert shapes.effective_kernel_size(3, 2) == 5
    assert shapes.output_size(7, 3, 1, "valid", 2) == 3
    assert shapes.same_padding(7, 3, 1, 3) == (3, 3)


def test_pool_strides_none_means_pool_size_as_in_keras():
    assert shapes.pool_output_shape((28, 28, 32), 2) == (14, 14, 32)
    assert shapes.pool_output_shape((7, 7, 1), (3, 2)) == (2, 3, 1)


# --- invalid arguments: ValueError naming the argument ---------------------------------------
@pytest.mark.parametrize("call, name", [
    (lambda: shapes.output_size(7, 3, 0), "stride"),
    (lambda: shapes.output_size(7, 3, -1), "stride"),
    (lambda: shapes.output_size(-7, 3), "n"),
    (lambda: shapes.output_size(0, 3), "n"),
    (lambda: shapes.output_size(7, 0), "f"),
    (lambda: shapes.output_size(7, 9), "f"),
    (lambda: shapes.output_size(5, 3, 1, "valid", 3), "dilation"),
    (lambda: shapes.output_size(7, 3, 1, "valid", 0), "dilation"),
    (lambda: shapes.output_size(7, 3, True), "stride"),
    (lambda: shapes.output_size(7, 3, 2.5), "stride"),
    (lambda: shapes.output_size(7, 3, "2"), "stride"),
    (lambda: shapes.output_size(7, 3, 1, "full"), "padding"),
    (lambda: shapes.output_size(7, 3, 1, -1), "padding"),
    (lambda: shapes.output_size(7, 3, 1, True), "padding"),
    (lambda: shapes.output_size(7, 3, 1, 1.5), "padding"),
    (lambda: shapes.same_padding(7, 3, 0), "stride"),
    (lambda: shapes.conv_output_shape((28, 28), 6, 5), "input_shape"),
    (lambda: shapes.conv_output_shape((28, 28, 0), 6, 5), "input_shape"),
    (lambda: shapes.conv_output_shape((28, 28, 1), 0, 5), "filters"),
    (lambda: shapes.conv_output_shape((28, 28, 1), 6, (5, 5, 5)), "kernel_size"),
    (lambda: shapes.conv_output_shape((4, 28, 1), 6, 5), "kernel_size"),
    (lambda: shapes.conv_output_shape((28, 28, 1), 6, 3, (1, 0)), "strides"),
    (lambda: shapes.conv_output_shape((9, 9, 1), 6, 3, 1, "valid", 5), "dilation"),
    (lambda: shapes.pool_output_shape((28, 28, 1), 0), "pool_size"),
    (lambda: shapes.pool_output_shape((28, 28, 1), 2, 0), "strides"),
    (lambda: shapes.pool_output_shape((1, 28, 1), 2), "pool_size"),
    (lambda: shapes.conv_param_count(3, 0, 8), "in_channels"),
    (lambda: shapes.conv_param_count(3, 1, False), "filters"),
])
def test_invalid_argument_raises_value_error_naming_it(call, name):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(name), str(err.value)


def test_error_quotes_the_offending_value():
    with pytest.raises(ValueError, match="got 0"):
        shapes.output_size(7, 3, 0)
    with pytest.raises(ValueError, match="'full'"):
        shapes.output_size(7, 3, 1, "full")
    with pytest.raises(ValueError, match=r"spans 7.*5"):
        shapes.output_size(5, 3, 1, "valid", 3)
