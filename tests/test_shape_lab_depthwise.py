"""The Shape Lab's one-layer section for DepthwiseConv2D and SeparableConv2D: output shapes and
parameter counts equal Keras' (a grid and Hypothesis), the sliding window's values equal
``tf.nn.depthwise_conv2d``'s for the channel it draws, impossible layers are one line naming the
input, and the page shows it all (AppTest, English and Korean)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from playground.i18n import catalog
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings
from tests.helpers import app_test

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def config(**values):
    return {**shape_settings.defaults(), **values}


def keras_layer(kind, kernel, strides, padding, dm, filters):
    if kind == "depthwise":
        return keras.layers.DepthwiseConv2D(kernel, strides=strides, padding=padding,
                                            depth_multiplier=dm)
    return keras.layers.SeparableConv2D(filters, kernel, strides=strides, padding=padding,
                                        depth_multiplier=dm)


def check_against_keras(kind, h, w, c, kh, kw, sh, sw, padding, dm, filters):
    report = lab.layer_report(config(kind=kind, h=h, w=w, c=c, kh=kh, kw=kw, sh=sh, sw=sw,
                                     padding=padding, dm=dm, filters=filters))
    layer = keras_layer(kind, (kh, kw), (sh, sw), padding, dm, filters)
    layer.build((None, h, w, c))
    assert report.output_shape == tuple(layer.compute_output_shape((None, h, w, c))[1:])
    assert report.params == layer.count_params()
    assert f"{report.params:,} parameters" in report.params_text


@pytest.mark.parametrize("kind,padding,stride,dm", list(itertools.product(
    ["depthwise", "separable"], ["valid", "same"], [1, 2], [1, 3])))
def test_shapes_and_parameters_equal_keras_on_a_grid(kind, padding, stride, dm):
    check_against_keras(kind, 9, 7, 3, 3, 2, stride, stride, padding, dm, 5)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["depthwise", "separable"]), h=st.integers(3, 12),
       w=st.integers(3, 12), c=st.integers(1, 4), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]),
       dm=st.integers(1, 3), filters=st.integers(1, 6))
def test_shapes_and_parameters_equal_keras(kind, h, w, c, kh, kw, sh, sw, padding, dm,
                                           filters):
    check_against_keras(kind, h, w, c, kh, kw, sh, sw, padding, dm, filters)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["depthwise", "separable"]), h=st.integers(2, 6),
       w=st.integers(2, 6), k=st.integers(1, 3), s=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same"]), image=st.sampled_from(["counting", "random"]),
       weights=st.sampled_from(["ones", "random"]), pos=st.integers(0, 40))
def test_the_window_equals_tf_depthwise_conv2d(kind, h, w, k, s, padding, image, weights,
                                               pos):
    """The drawn channel through its own kernel, as TensorFlow's depthwise convolution of a
    3-channel picture whose first channel is the demo input computes it."""
    assume(padding == "same" or k <= min(h, w))   # else impossible (tested below)
    settings_ = config(kind=kind, h=h, w=w, c=3, kh=k, kw=k, sh=s, sw=s, padding=padding,
                       image=image, weights=weights, dm=2, filters=4)
    report = lab.layer_report(settings_)
    win = lab.window(settings_, report, pos)
    picture = np.random.default_rng(3).normal(size=(1, h, w, 3)).astype(np.float32)
    picture[0, :, :, 0] = lab.demo_image(settings_)
    kernels = np.random.default_rng(4).normal(size=(k, k, 3, 2)).astype(np.float32)
    kernels[:, :, 0, 0] = lab.demo_kernel(settings_)
    want = tf.nn.depthwise_conv2d(picture, kernels, [1, s, s, 1], padding.upper()).numpy()
    np.testing.assert_allclose(win.output, want[0, :, :, 0], atol=1e-4)
    assert win.value == pytest.approx(float(want[0, win.row, win.col, 0]), abs=1e-4)


def test_impossible_layers_are_one_line_naming_the_input():
    for values, start in [({"padding": "explicit", "pad": 1}, "Padding: this layer takes"),
                          ({"kh": 6}, "Kernel height"),
                          ({"dm": 0}, "Depth multiplier M must be >= 1"),
                          ({"kind": "separable", "filters": 0}, "Filters must be >= 1")]:
        with pytest.raises(ValueError) as error:
            lab.layer_report(config(**{"kind": "depthwise", "h": 5, "w": 5, **values}))
        assert lab.explain(error.value).startswith(start), lab.explain(error.value)


def test_the_link_keeps_the_kind_and_the_depth_multiplier():
    settings_ = config(kind="separable", dm=3, filters=8)
    query = shape_settings.to_query(settings_)
    assert query["kind"] == "separable" and query["dm"] == "3"
    again, messages = shape_settings.from_query(query)
    assert messages == [] and again["kind"] == "separable" and again["dm"] == 3


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_page_shows_a_separable_layer(language):
    at = app_test("shape_lab", query={"lang": language, "kind": "separable", "h": "7",
                                      "w": "7", "c": "3", "kh": "3", "kw": "3", "dm": "2",
                                      "filters": "16"})
    assert not at.exception and not at.error
    metric = next(m for m in at.metric if m.key is None and "×" in m.value)
    assert metric.value.replace(" ", "") == "5×5×16"
    assert at.number_input(key="sl_dm").value == 2
    ko = catalog("ko") if language == "ko" else {}
    label = ko.get("Depth multiplier M", "Depth multiplier M")
    assert at.number_input(key="sl_dm").label == label
    texts = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "166" in texts and "448" in texts   # 54 + 96 + 16; a Conv2D would need 448
    at.radio(key="sl_kind").set_value("depthwise").run()
    assert not at.exception and not at.error
    assert at.number_input(key="sl_filters").disabled
    metric = next(m for m in at.metric if "×" in m.value)
    assert metric.value.replace(" ", "") == "5×5×6"
