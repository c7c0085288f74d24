"""Property-based tests: every numeric input either raises the documented ValueError or gives
exactly what TensorFlow computes."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from playground.core import filters, shapes
from playground.filter_lab import pipeline
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings
from tests import reference

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


# --- the labs' own functions: what the pages call with the numbers people type -----------------

# Mostly settings that can work, and now and then one setting broken as a person might type it
# (zero, negative): refusals are tested without drowning the accepted cases.
def _one_broken(names):
    return st.one_of(st.none(), st.none(), st.none(),
                     st.tuples(st.sampled_from(names), st.integers(-2, 0)))


LAYER_INTS = ("h", "w", "c", "kh", "kw", "filters", "sh", "sw", "pad", "dilation")


@FAST
@given(h=st.integers(1, 10), w=st.integers(1, 10), c=st.integers(1, 3), kh=st.integers(1, 5),
       kw=st.integers(1, 5), filters_=st.integers(1, 3), sh=st.integers(1, 4),
       sw=st.integers(1, 4), pad=st.integers(0, 3), dilation=st.integers(1, 3),
       kind=st.sampled_from(shape_settings.KINDS),
       padding=st.sampled_from(shape_settings.PADDINGS),
       image=st.sampled_from(shape_settings.IMAGES),
       weights=st.sampled_from(shape_settings.WEIGHTS),
       pos=st.integers(-3, 400), broken=_one_broken(LAYER_INTS), dm=st.integers(1, 3))
def test_shape_lab_layer_is_value_error_or_tensorflow(h, w, c, kh, kw, filters_, sh, sw, pad,
                                                       dilation, kind, padding, image, weights,
                                                       pos, broken, dm):
    """Sections 1-3 of the Shape Lab: the output shape, the parameter count and the sliding
    window's numbers, or a ValueError that the page turns into one sentence."""
    s = dict(shape_settings.defaults(), h=h, w=w, c=c, kh=kh, kw=kw, filters=filters_, sh=sh, sw=sw,
             pad=pad, dilation=dilation, kind=kind, padding=padding, image=image,
             weights=weights, pos=pos, dm=dm)
    if broken:
        s[broken[0]] = broken[1]
    h, w, c, kh, kw, filters_, sh, sw, pad, dilation = (s[name] for name in LAYER_INTS)
    try:
        report = lab.layer_report(s)
    except ValueError as err:
        event("refused")
        assert lab.explain(err)
        return
    event(f"accepted {kind}")
    image = lab.demo_image(s)
    if kind == "conv":
        k = lab.demo_kernel(s)[:, :, None, None]
        expected = reference.conv_nhwc(image[None, :, :, None], (kh, kw), (sh, sw),
                                       report.padding, dilation, weights=k)
        expected_shape = (*expected.shape[1:3], filters_)
        layer = keras.layers.Conv2D(filters_, (kh, kw))
        layer.build((None, None, None, c))   # the count does not depend on H, W
        assert report.params == layer.count_params()
    elif kind == "transposed":
        expected = reference.conv_transpose(image, lab.demo_kernel(s), (sh, sw), report.padding,
                                            report.output_shape[:2])[None, ..., None]
        expected_shape = (*expected.shape[1:3], filters_)
        layer = keras.layers.Conv2DTranspose(filters_, (kh, kw), strides=(sh, sw),
                                             padding=report.padding)
        layer.build((None, None, None, c))
        assert report.params == layer.count_params()
        assert report.output_shape == tuple(
            layer.compute_output_shape((None, h, w, c))[1:])
    elif kind in ("depthwise", "separable"):   # the window: the depthwise step, one channel
        k = lab.demo_kernel(s)[:, :, None, None]
        expected = reference.conv_nhwc(image[None, :, :, None], (kh, kw), (sh, sw),
                                       report.padding, 1, weights=k)
        layer = keras.layers.DepthwiseConv2D((kh, kw), strides=(sh, sw), padding=report.padding,
                                             depth_multiplier=dm) if kind == "depthwise" else \
            keras.layers.SeparableConv2D(filters_, (kh, kw), strides=(sh, sw),
                                         padding=report.padding, depth_multiplier=dm)
        layer.build((None, h, w, c))
        assert report.params == layer.count_params()
        expected_shape = tuple(layer.compute_output_shape((None, h, w, c))[1:])
    else:
        expected = reference.pool(image, (kh, kw), (sh, sw), report.padding, kind)[None, ..., None]
        expected_shape = (*expected.shape[1:3], c)
        assert report.params == 0
    assert report.output_shape == tuple(int(n) for n in expected_shape)
    win = lab.window(s, report, pos)
    np.testing.assert_allclose(win.output, np.asarray(expected)[0, :, :, 0], atol=1e-4)
    assert win.value == pytest.approx(float(np.asarray(expected)[0, win.row, win.col, 0]),
                                      abs=1e-4)


kernel_names = st.lists(st.sampled_from(sorted(filters.KERNELS)), min_size=1, max_size=3,
                        unique=True)


PIPELINE_INTS = ("stride", "padding", "pool_size", "pool_stride", "pool_padding")


@FAST
@given(h=st.integers(1, 14), w=st.integers(1, 14), names=kernel_names,
       stride=st.integers(1, 4), padding=st.one_of(st.sampled_from(["same", "valid"]),
                                                   st.integers(0, 4)),
       colour=st.sampled_from(pipeline.COLOUR_MODES), relu=st.booleans(),
       pool_mode=st.sampled_from(pipeline.POOL_MODES), pool_size=st.integers(1, 4),
       pool_stride=st.one_of(st.none(), st.integers(1, 3)),
       pool_padding=st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2)),
       seed=st.integers(0, 99), broken=_one_broken(PIPELINE_INTS))
def test_filter_lab_pipeline_is_value_error_or_tensorflow(h, w, names, stride, padding, colour,
                                                          relu, pool_mode, pool_size,
                                                          pool_stride, pool_padding, seed,
                                                          broken):
    """The Filter Lab's whole pipeline (filters, colour handling, stride, padding, ReLU,
    pooling) on a small picture: TensorFlow's numbers, or a ValueError the page shows."""
    rgb = (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.float32)
    numbers = dict(stride=stride, padding=padding, pool_size=pool_size,
                   pool_stride=pool_stride, pool_padding=pool_padding)
    if broken:
        numbers[broken[0]] = broken[1]
    stride, padding, pool_size, pool_stride, pool_padding = (numbers[n] for n in PIPELINE_INTS)
    try:
        settings_ = pipeline.LabSettings(
            kernels=tuple(names), stride=stride, padding=padding, colour=colour, relu=relu,
            pool_mode=pool_mode, pool_size=pool_size, pool_stride=pool_stride,
            pool_padding=pool_padding)
        result = pipeline.run(rgb, settings_)
    except ValueError as err:
        event("refused")
        assert str(err)
        return
    event(f"accepted, pool {pool_mode}")
    x = result.input if result.input.ndim == 3 else result.input[:, :, None]
    for index, (kernel, plane) in enumerate(zip(result.kernels, result.planes)):
        source = x if plane is None else x[:, :, plane:plane + 1]
        k4 = kernel.reshape(kernel.shape[:2] + (source.shape[-1], 1))
        expected = reference.conv(source, k4, stride, padding)[:, :, 0]
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(result.response[:, :, index], expected, rtol=1e-4,
                                   atol=1e-4 * scale)
    activated = tf.nn.relu(result.response).numpy() if relu else result.response
    np.testing.assert_allclose(result.activated, activated, atol=1e-6)
    if pool_mode == "none":
        assert result.pooled is None
    else:
        expected = reference.pool(activated, (pool_size, pool_size),
                           None if pool_stride is None else (pool_stride, pool_stride),
                           pool_padding, pool_mode)
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(result.pooled, expected, rtol=1e-4, atol=1e-4 * scale)
