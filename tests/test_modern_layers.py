"""The layers modern CNNs use (BatchNormalization, GlobalAveragePooling2D, Conv2DTranspose,
DepthwiseConv2D, SeparableConv2D) against Keras and TensorFlow: the table's shapes and parameter
counts (a grid and hypothesis), the transposed convolution's sliding window against
``tf.nn.conv2d_transpose``, the Keras code and reading a model back, a short training run, the
Inspector's kernels, and the Shape Lab page."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.core import layers, network, shapes
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings
from tests import reference
from tests.helpers import app_test

keras = pytest.importorskip("keras")

CONV_KINDS = ("Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D")


def _keras_layer(spec_layer: dict, input_shape):
    """The Keras layer the spec builds (``keras_group``, as ``network.keras_layers`` does),
    built on ``input_shape``: (its output shape without the batch axis, count_params,
    trainable count)."""
    ((cls, kwargs),) = layers.keras_group(network.normalize_layer(spec_layer))
    layer = getattr(keras.layers, cls)(**kwargs)
    layer.build((None, *input_shape))
    out = layer.compute_output_shape((None, *input_shape))[1:]
    trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    return tuple(out), layer.count_params(), trainable


def _ours(spec_layer: dict, input_shape):
    return network.layer_output(network.normalize_layer(spec_layer), tuple(input_shape))


GRID = [
    ({"type": kind, "kernel_size": k, "strides": s, "padding": p, "filters": 3,
      "depth_multiplier": m}, (n, n + 1, c))
    for kind, n, k, s, p, c, m in itertools.product(
        CONV_KINDS, (1, 3, 4), (1, 2, 3), (1, 2, 3), ("valid", "same"), (2,), (1, 2))
    if kind != "Conv2DTranspose" or m == 1
    if kind == "Conv2DTranspose" or k <= n or p == "same"
]


def _keep_fields(layer: dict) -> dict:
    return {k: v for k, v in layer.items() if k == "type" or k in network.LAYER_DEFAULTS[
        layer["type"]]}


@pytest.mark.parametrize("layer, input_shape", GRID[::3] + [
    ({"type": "Conv2DTranspose", "filters": 4, "kernel_size": [3, 1], "strides": [1, 3],
      "padding": "valid"}, (5, 4, 3)),
    ({"type": "SeparableConv2D", "filters": 7, "kernel_size": [2, 3], "strides": [2, 1],
      "padding": "same", "depth_multiplier": 3}, (9, 6, 4)),
    ({"type": "DepthwiseConv2D", "kernel_size": [3, 2], "strides": [1, 2],
      "padding": "valid", "depth_multiplier": 4}, (7, 7, 3)),
])
def test_conv_kinds_shapes_and_parameters_equal_keras(layer, input_shape):
    layer = _keep_fields(layer)
    out, params = _ours(layer, input_shape)
    keras_out, keras_params, _trainable = _keras_layer(layer, input_shape)
    assert (out, params) == (keras_out, keras_params)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(CONV_KINDS), h=st.integers(1, 9), w=st.integers(1, 9),
       c=st.integers(1, 4), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 4), sw=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]),
       filters=st.integers(1, 5), multiplier=st.integers(1, 3))
def test_conv_kinds_match_keras_over_random_settings(kind, h, w, c, kh, kw, sh, sw, padding,
                                                     filters, multiplier):
    layer = _keep_fields({"type": kind, "filters": filters, "kernel_size": [kh, kw],
                          "strides": [sh, sw], "padding": padding,
                          "depth_multiplier": multiplier})
    try:
        ours = _ours(layer, (h, w, c))
    except ValueError:
        # Ours refuses exactly a window larger than a VALID input (Keras' output: no cells).
        assert kind != "Conv2DTranspose" and padding == "valid" and (kh > h or kw > w)
        return
    assert ours == _keras_layer(layer, (h, w, c))[:2]


@pytest.mark.parametrize("input_shape", [(6, 5, 3), (7,), (2, 2, 16)])
def test_batch_normalization_has_4c_parameters_2c_trainable(input_shape):
    layer = {"type": "BatchNormalization"}
    channels = input_shape[-1]
    out, params = _ours(layer, input_shape)
    keras_out, keras_params, trainable = _keras_layer(layer, input_shape)
    assert out == keras_out == tuple(input_shape)
    assert params == keras_params == 4 * channels and trainable == 2 * channels


def test_global_average_pooling_gives_one_number_per_channel():
    out, params = _ours({"type": "GlobalAveragePooling2D"}, (5, 3, 7))
    assert (out, params) == _keras_layer({"type": "GlobalAveragePooling2D"}, (5, 3, 7))[:2]
    assert out == (7,) and params == 0
    with pytest.raises(ValueError, match="needs an"):
        _ours({"type": "GlobalAveragePooling2D"}, (12,))


@pytest.mark.parametrize("n, f, s, padding, output_padding", [
    (3, 3, 2, "valid", None), (3, 1, 3, "valid", None), (4, 2, 2, "same", None),
    (5, 3, 1, "same", None), (3, 3, 2, "valid", 1), (3, 4, 3, "same", 2), (2, 1, 2, "same", 0)])
def test_transposed_output_size_equals_keras_with_output_padding(n, f, s, padding,
                                                                 output_padding):
    layer = keras.layers.Conv2DTranspose(1, f, strides=s, padding=padding,
                                         output_padding=output_padding)
    want = layer.compute_output_shape((None, n, n, 1))[1]
    assert shapes.transposed_output_size(n, f, s, padding, output_padding) == want


def test_transposed_formula_is_n_minus_1_times_s_plus_f_or_n_times_s():
    assert shapes.transposed_output_size(3, 3, 2, "valid") == (3 - 1) * 2 + 3
    assert shapes.transposed_output_size(3, 3, 2, "same") == 3 * 2
    # A kernel smaller than the stride: Keras keeps N·S cells, the last ones only get the bias.
    assert shapes.transposed_output_size(3, 1, 2, "valid") == 6


@pytest.mark.parametrize("layer, word", [
    ({"type": "Conv2DTranspose", "padding": 2}, "padding: this layer takes 'valid' or 'same'"),
    ({"type": "DepthwiseConv2D", "depth_multiplier": 0}, "depth_multiplier must be >= 1"),
    ({"type": "SeparableConv2D", "filters": -1}, "filters must be >= 1"),
    ({"type": "Conv2DTranspose", "activation": "gelu"}, "activation must be one of"),
    ({"type": ["BatchNorm"]}, "type must be one of"),  # a hand-made link's list: no crash
])
def test_bad_fields_get_a_one_line_message(layer, word):
    with pytest.raises(ValueError) as err:
        network.normalize_layer(layer)
    assert word in str(err.value) and "\n" not in str(err.value)


# --- the transposed convolution's sliding window ---------------------------------------------
def _lab_settings(**values):
    return {**shape_settings.defaults(), "kind": "transposed", **values}


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]),
       image=st.sampled_from(["counting", "random"]), weights=st.sampled_from(["ones", "random"]),
       pos=st.integers(0, 400))
def test_transposed_window_equals_tf_conv2d_transpose(h, w, kh, kw, sh, sw, padding, image,
                                                      weights, pos):
    """Every output of the window view (the flipped kernel over the padded spread input) and
    the explained cell equal TensorFlow's transposed convolution of the same numbers."""
    config = _lab_settings(h=h, w=w, kh=kh, kw=kw, sh=sh, sw=sw, padding=padding, image=image,
                           weights=weights)
    report = lab.layer_report(config)
    win = lab.window(config, report, pos)
    want = reference.conv_transpose(lab.demo_image(config), lab.demo_kernel(config), (sh, sw),
                                    padding, report.output_shape[:2])
    np.testing.assert_allclose(win.output, want, atol=1e-4)
    assert win.value == pytest.approx(float(want[win.row, win.col]), abs=1e-4)
    # The window's taps times the flipped kernel add up to that value.
    taps = np.array([win.padded[r, c] for r, c in win.taps]).reshape(kh, kw)
    assert float((taps * win.kernel).sum()) == pytest.approx(win.value, abs=1e-4)
    np.testing.assert_array_equal(win.kernel, lab.demo_kernel(config)[::-1, ::-1])
    # The spread input: the input's cells S apart, all else the drawn zeros.
    top, _bottom, left, _right = win.pads
    real = win.padded[top::sh, left::sw][:h, :w]
    np.testing.assert_array_equal(real, lab.demo_image(config))
    assert int((~win.is_pad).sum()) == h * w
    assert win.padded.shape == (report.axes[0].padded, report.axes[1].padded)


def test_transposed_report_states_keras_formula_and_parameters():
    config = _lab_settings(h=3, w=4, c=2, kh=3, kw=3, sh=2, sw=2, filters=5)
    report = lab.layer_report(config)
    want = keras.layers.Conv2DTranspose(5, 3, strides=2).compute_output_shape((None, 3, 4, 2))
    assert report.output_shape == tuple(want[1:]) == (7, 9, 5)
    assert "(3 − 1)·2 + max(3, 2) = 7" in report.formulas[0]
    assert report.params == 3 * 3 * 2 * 5 + 5
    with pytest.raises(ValueError, match="padding"):
        lab.layer_report(_lab_settings(padding="explicit", pad=1))


# --- Keras code, reading a model back, training, the Inspector --------------------------------
MODERN = {"input_shape": [28, 28, 1], "layers": [
    {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "strides": 2,
     "depth_multiplier": 2},
    {"type": "BatchNorm"},
    {"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2, "padding": "valid",
     "depth_multiplier": 2},
    {"type": "Conv2DTranspose", "filters": 4, "kernel_size": 2, "strides": 2,
     "activation": None},
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]}


def test_the_old_batchnorm_name_reads_as_batchnormalization():
    spec = network.validate(MODERN)
    assert spec["layers"][1] == {"type": "BatchNormalization"}
    assert lab.spec_to_rows(MODERN)[1]["type"] == "BatchNormalization"
    assert network.layer_rows(MODERN)[1].type == "BatchNormalization"
    assert network.validate(lab.rows_to_spec(MODERN["input_shape"],
                                             lab.editor_frame(MODERN))) == spec


def test_keras_code_and_spec_from_model_round_trip():
    from playground.training import models

    model = models.build_model(MODERN)
    namespace: dict = {}
    exec(network.keras_code(MODERN), namespace)
    copy = namespace["model"]
    assert [type(layer).__name__ for layer in copy.layers] == \
        [type(layer).__name__ for layer in model.layers]
    for ours, theirs in zip(model.layers, copy.layers):
        mine, other = ours.get_config(), theirs.get_config()
        mine.pop("name"), other.pop("name")
        assert mine == other
    rows = network.layer_rows(MODERN)
    assert [row.output_shape for row in rows] == \
        [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert [row.params for row in rows] == [layer.count_params() for layer in model.layers]
    again, index = network.spec_from_model(model)
    assert again == network.validate(MODERN) and index == list(range(len(rows)))
    # Settings the spec cannot say leave the model without a table.
    for odd in (keras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1),
                keras.layers.DepthwiseConv2D(3, dilation_rate=2),
                keras.layers.SeparableConv2D(2, 3, use_bias=False)):
        other = keras.Sequential([keras.Input((8, 8, 2)), odd])
        assert network.spec_from_model(other) is None


def test_a_network_of_modern_layers_trains_and_its_run_reads_back():
    """A short run through the worker: the live view gets the new layers' feature maps, the
    saved model reopens and reads back as the same spec."""
    from playground.core import runs
    from playground.training import results, worker
    from playground.training import settings as training_settings
    from tests.test_training import FakeControl

    spec = training_settings.check_spec(MODERN)
    settings_ = training_settings.normalize_settings(dict(
        preset=training_settings.CUSTOM, spec=MODERN, train_examples=60, epochs=1,
        batch_size=20, validation_split=0.25, seed=1, test_examples=40,
        snapshot_interval=0.05, learning_rate=0.01))
    run_id = runs.new_run_id()
    runs.run_path(run_id).mkdir(parents=True)
    snapshots = []
    status = worker.train_run(run_id, settings_, snapshots.append, FakeControl())
    assert status["status"] == "finished"
    assert math.isfinite(results.saved_run(run_id)["batch_log"][-1]["loss"])
    last = [s for s in snapshots if s.activations][-1]
    kinds = [a["type"] if isinstance(a, dict) else a.type for a in last.activations]
    assert kinds == ["SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose"]
    assert last.conv_kernels == {}  # only Conv2D kernels are drawn; the page says so
    assert layers.undrawn_filter_kinds(settings_["spec"]) == kinds
    model = keras.models.load_model(runs.run_path(run_id) / "model.keras", safe_mode=True)
    assert network.spec_from_model(model)[0] == spec


def test_inspector_kernels_of_transposed_and_depthwise_layers_in_conv2d_layout():
    """Feature map j of a DepthwiseConv2D is its input channel c = j // M correlated with
    kernel_as_filters[..., c, j] (zero weights on the other channels); a Conv2DTranspose's
    kernel is swapped to (kh, kw, in, out)."""
    from playground.inspector import explain
    from tests.reference import conv

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 5, 2)),
                              keras.layers.DepthwiseConv2D(3, depth_multiplier=2,
                                                           name="depthwise"),
                              keras.layers.Conv2DTranspose(3, 2, strides=2, name="up")])
    x = np.random.default_rng(0).random((6, 5, 2)).astype(np.float32)
    depthwise = model.get_layer("depthwise")
    out = np.asarray(depthwise(x[None]))[0]
    kernel = explain.conv_kernel(model, "depthwise")
    assert kernel.shape == (3, 3, 2, 4)
    bias = np.asarray(depthwise.bias)
    for j in range(4):
        c = j // 2
        assert not np.any(np.delete(kernel[..., j], c, axis=2))
        want = conv(x[..., c], kernel[:, :, c, j], 1, "valid") + bias[j]
        np.testing.assert_allclose(out[..., j], want, atol=1e-5)
    stored = np.asarray(model.get_layer("up").kernel)          # (kh, kw, out, in)
    swapped = explain.conv_kernel(model, "up")
    assert swapped.shape == (2, 2, 4, 3)
    np.testing.assert_array_equal(swapped, stored.transpose(0, 1, 3, 2))
    assert layers.kernel_as_filters("SeparableConv2D", np.zeros((3, 3, 2, 1))) is None


# --- the Shape Lab page --------------------------------------------------------------------
def test_shape_lab_page_shows_the_transposed_window():
    at = app_test("shape_lab", query={"kind": "transposed", "kh": "3", "kw": "3", "sh": "2",
                                      "sw": "2"})
    assert not at.exception and not at.error
    (metric,) = [m for m in at.metric if m.label.startswith("Output shape")]
    assert metric.value == "7 × 7 × 1"
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    want = reference.conv_transpose(np.arange(1, 10, dtype=np.float32).reshape(3, 3),
                                    np.ones((3, 3), np.float32), (2, 2), "valid", (7, 7))
    assert figure["data"][2]["text"] == [[lab._num(v) for v in row] for row in want]
    texts = " ".join(m.value for m in at.markdown)
    assert "flipped kernel" in texts and "(3 − 1)·2 + max(3, 2) = 7" in texts
    # A table row of the new kinds: its shape and parameters come from Keras' rules.
    spec = {"input_shape": [4, 4, 2], "layers": [
        {"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2}]}
    at = app_test("shape_lab", query={"net": network.to_json(spec)})
    assert not at.exception
    (total,) = [m for m in at.metric if m.label == "Total parameters"]
    assert total.value == f"{3 * 3 * 2 * 3 + 3:,}"


def test_training_refuses_a_network_too_large_to_hold_with_one_line():
    """A transposed convolution with a large stride multiplies the picture's size: training
    refuses what would not fit in memory, naming the layer, before building anything."""
    from playground.training import settings as training_settings

    spec = {"input_shape": [28, 28, 1], "layers": [
        {"type": "Conv2DTranspose", "filters": 8, "kernel_size": 3, "strides": 50},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 10, "activation": "softmax"}]}
    with pytest.raises(ValueError) as err:
        training_settings.check_spec(spec)
    assert str(err.value).startswith("layer 1 (Conv2DTranspose): its output 1400×1400×8")
    assert "\n" not in str(err.value)
    spec["layers"][0]["strides"] = 2  # 56×56×8: trains
    assert training_settings.check_spec(spec)["layers"][0]["strides"] == 2
    wide = {"input_shape": [28, 28, 1], "layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 30_000, "activation": "relu"},
        {"type": "Dense", "units": 10, "activation": "softmax"}]}
    with pytest.raises(ValueError, match="parameters, more than the 20,000,000"):
        training_settings.check_spec(wide)
