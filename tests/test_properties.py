"""Property-based tests: every numeric input either raises the documented ValueError or gives
exactly what TensorFlow computes."""
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground import shapes

anything = st.one_of(st.integers(-5, 40), st.none(), st.booleans(), st.floats(-3, 40),
                     st.text(max_size=4), st.sampled_from(["valid", "SAME", "Same", "2", "-1"]))
small = st.integers(1, 12)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(n=anything, f=anything, stride=anything, padding=anything, dilation=anything)
def test_output_size_raises_only_value_error(n, f, stride, padding, dilation):
    try:
        out = shapes.output_size(n, f, stride, padding, dilation)
    except ValueError as err:
        assert str(err)
    else:
        assert isinstance(out, int) and out >= 1


@FAST
@given(h=small, w=small, c=st.integers(1, 3), kh=st.integers(1, 6), kw=st.integers(1, 6),
       sh=st.integers(1, 5), sw=st.integers(1, 5),
       padding=st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 3)))
def test_conv_output_shape_agrees_with_tensorflow(h, w, c, kh, kw, sh, sw, padding):
    try:
        ours = shapes.conv_output_shape((h, w, c), 2, (kh, kw), (sh, sw), padding)
    except ValueError:
        # Only refused when the kernel does not fit the padded input; TF refuses it too.
        pad = 0 if padding in ("valid", "same") else 2 * padding
        assert padding != "same" and (kh > h + pad or kw > w + pad)
        return
    tf_padding = padding.upper() if isinstance(padding, str) else \
        [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    x = tf.zeros((1, h, w, c))
    k = tf.zeros((kh, kw, c, 2))
    theirs = tuple(tf.nn.conv2d(x, k, strides=[1, sh, sw, 1], padding=tf_padding).shape[1:])
    assert ours == theirs


@FAST
@given(h=small, w=small, ph=st.integers(1, 5), pw=st.integers(1, 5),
       strides=st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))),
       padding=st.sampled_from(["valid", "same"]))
def test_pool_output_shape_agrees_with_tensorflow(h, w, ph, pw, strides, padding):
    try:
        ours = shapes.pool_output_shape((h, w, 3), (ph, pw), strides, padding)
    except ValueError:
        assert padding == "valid" and (ph > h or pw > w)
        return
    s = strides or (ph, pw)
    theirs = tuple(tf.nn.max_pool2d(tf.zeros((1, h, w, 3)), (ph, pw), s,
                                    padding.upper()).shape[1:])
    assert ours == theirs


@FAST
@given(n=st.integers(1, 30), f=st.integers(1, 7), stride=st.integers(1, 5),
       dilation=st.integers(1, 3))
def test_same_padding_is_what_tensorflow_pads(n, f, stride, dilation):
    # TF's SAME equals explicit padding with our (before, after): same values, not just shape.
    # tf.nn.convolution refuses stride > 1 together with dilation > 1, so dilate at stride 1.
    stride = stride if dilation == 1 else 1
    before, after = shapes.same_padding(n, f, stride, dilation)
    rng = np.random.default_rng(n * 1000 + f * 100 + stride * 10 + dilation)
    x = tf.constant(rng.normal(size=(1, n, 1, 1)), tf.float32)
    k = tf.constant(rng.normal(size=(f, 1, 1, 1)), tf.float32)
    same = tf.nn.convolution(x, k, strides=[stride, 1],
                             dilations=[dilation, 1], padding="SAME")
    explicit = tf.nn.convolution(tf.pad(x, [[0, 0], [before, after], [0, 0], [0, 0]]), k,
                                 strides=[stride, 1],
                                 dilations=[dilation, 1], padding="VALID")
    np.testing.assert_allclose(same.numpy(), explicit.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2x", None])
def test_conv_param_count_names_the_bad_argument(bad):
    with pytest.raises(ValueError, match="filters"):
        shapes.conv_param_count(3, 1, bad)
