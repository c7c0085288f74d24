"""What a filter wants to see (playground.inspector.features): generated pictures excite their
filter more than every one of 1,000 test digits, the objective and the reported activations
are TensorFlow's, colour models work, and the Inspector's section generates once and reads
its grid back on reruns.

Kept small: a few filters of the pretrained model, the default 128 steps (about a second per
layer on 2 cores); bench/bench_feature_viz.py measures whole grids."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground.charts import features as feature_charts
from playground.datasets import mnist
from playground.inspector import features, pretrained
from tests.helpers import app_test
from tests.reference import conv_nhwc

# A slice of filters of each conv layer of the pretrained model ("Fast MNIST CNN").
FIRST_LAYER_FILTERS = [0, 3, 7, 12]
SECOND_LAYER_FILTERS = [1, 9, 16, 30]


@pytest.fixture(scope="module")
def model():
    return pretrained.pretrained_model()


@pytest.fixture(scope="module")
def test_digits():
    return mnist.float_test_set()[0][:1000]


def test_the_pretrained_model_has_two_conv_layers(model):
    assert [count for _name, count in features.conv_layers(model)] == [16, 32]


@pytest.mark.parametrize(("position", "units"), [(0, FIRST_LAYER_FILTERS),
                                                 (1, SECOND_LAYER_FILTERS)])
def test_each_generated_picture_beats_every_one_of_1000_test_digits(model, test_digits,
                                                                     position, units):
    layer = features.conv_layers(model)[position][0]
    grid = features.visualise(model, layer, units)
    assert grid.pictures.shape == (len(units), 28, 28, 1)
    assert grid.pictures.min() >= 0.0 and grid.pictures.max() <= 1.0   # a picture it could see
    digits = features.filter_activations(model, layer, test_digits)[:, units]   # (1000, 4)
    again = features.filter_activations(model, layer, grid.pictures)[np.arange(len(units)),
                                                                      units]
    np.testing.assert_allclose(grid.activations, again, rtol=1e-5)
    assert np.all(grid.activations > digits.max(axis=0)), (grid.activations,
                                                           digits.max(axis=0))


def test_class_pictures_are_read_as_their_class(model, test_digits):
    grid = features.visualise(model, features.CLASS_OBJECTIVE, [2, 7])
    probabilities = model.predict(grid.pictures, verbose=0)
    assert list(np.argmax(probabilities, axis=1)) == [2, 7]
    logits = features.unit_activations(model, features.CLASS_OBJECTIVE, test_digits)[:, [2, 7]]
    assert np.all(grid.activations > logits.max(axis=0))
    # The class scores are the logits: their softmax is Keras' output.
    np.testing.assert_allclose(tf.nn.softmax(features.unit_activations(
        model, features.CLASS_OBJECTIVE, test_digits[:50])).numpy(),
        model.predict(test_digits[:50], verbose=0), atol=1e-5)


def test_activations_are_the_mean_of_the_layers_output_layer_by_layer(model, test_digits):
    """The reported activation is the mean of Keras' own layer output (after ReLU), computed
    here by calling the layers one after the other."""
    layer_name = features.conv_layers(model)[1][0]
    h = tf.constant(test_digits[:20])
    for layer in features._layers(model):
        h = layer(h, training=False)
        if layer.name == layer_name:
            break
    np.testing.assert_allclose(features.filter_activations(model, layer_name, test_digits[:20]),
                               np.asarray(h).mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_the_objective_is_the_convolution_plus_bias_before_relu(model, test_digits):
    name = features.conv_layers(model)[0][0]
    layer = features._layer(model, name)
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    expected = conv_nhwc(test_digits[:8], kernel.shape[:2], (2, 2), "valid",
                         weights=kernel).numpy() + bias
    pre = np.asarray(features._objective(model, name)(tf.constant(test_digits[:8])))
    np.testing.assert_allclose(pre, expected, rtol=1e-4, atol=1e-5)
    assert pre.min() < 0    # before the ReLU: the layer's own output never is


def test_same_seed_same_pictures_another_seed_others(model):
    layer = features.conv_layers(model)[0][0]
    one = features.visualise(model, layer, [5], steps=12)
    again = features.visualise(model, layer, [5], steps=12)
    other = features.visualise(model, layer, [5], steps=12, seed=1)
    np.testing.assert_array_equal(one.pictures, again.pictures)
    assert not np.array_equal(one.pictures, other.pictures)


def colour_model():
    """An untrained 32×32×3 network: conv with ReLU, pooling, conv, dense softmax."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((32, 32, 3)),
                             keras.layers.Conv2D(6, 5, activation="relu"),
                             keras.layers.MaxPooling2D(),
                             keras.layers.Conv2D(8, 3, activation="relu"),
                             keras.layers.Flatten(),
                             keras.layers.Dense(4, activation="softmax")])


def test_a_colour_model_gets_colour_pictures_that_excite_its_filters():
    model = colour_model()
    noise = np.random.default_rng(0).random((200, 32, 32, 3), dtype=np.float32)
    for layer, count in features.conv_layers(model):
        grid = features.visualise(model, layer, steps=64)
        assert grid.pictures.shape == (count, 32, 32, 3)
        assert grid.pictures.min() >= 0.0 and grid.pictures.max() <= 1.0
        best_noise = features.filter_activations(model, layer, noise).max(axis=0)
        assert np.all(grid.activations > best_noise), layer
    classes = features.visualise(model, features.CLASS_OBJECTIVE, steps=64)
    assert np.argmax(model.predict(classes.pictures, verbose=0), axis=1).tolist() == \
        [0, 1, 2, 3]


def test_the_modern_conv_layers_get_pictures_too():
    """BatchNormalization, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose: each conv kind
    is offered and its generated pictures beat random pictures."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
        keras.layers.SeparableConv2D(5, 3, activation="relu"),
        keras.layers.Conv2DTranspose(3, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
    assert [count for _name, count in features.conv_layers(model)] == [4, 8, 5, 3]
    noise = np.random.default_rng(1).random((100, 16, 16, 3), dtype=np.float32)
    for layer, _count in features.conv_layers(model)[1:]:
        grid = features.visualise(model, layer, steps=32)
        assert np.all(grid.activations > features.filter_activations(model, layer, noise)
                      .max(axis=0)), layer


def test_a_model_fed_0_to_255_gets_its_pixels_scaled():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    assert features.input_scale(model) == 255.0
    grid = features.visualise(model, features.conv_layers(model)[0][0], [1], steps=8)
    assert grid.pictures.max() <= 1.0
    conv = keras.Model(model.inputs[0], model.layers[1].output)
    np.testing.assert_allclose(grid.activations[0], np.asarray(
        conv(grid.pictures * 255.0)).mean(axis=(1, 2))[0, 1], rtol=1e-5)


def test_bad_requests_are_refused_with_a_reason(model):
    dense = features._layers(model)[-1].name
    with pytest.raises(ValueError, match="not a conv layer"):
        features.visualise(model, dense)
    with pytest.raises(ValueError, match="no layer named"):
        features.visualise(model, "nope")
    layer = features.conv_layers(model)[0][0]
    with pytest.raises(ValueError, match="units must be in 0..15"):
        features.visualise(model, layer, [16])
    with pytest.raises(ValueError, match="steps"):
        features.visualise(model, layer, [0], steps=0)
    large = keras.Sequential([keras.Input((300, 40, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="too large"):
        features.visualise(large, large.layers[0].name)


def test_model_key_follows_the_weights(model):
    copy = pretrained.load_pretrained()
    assert features.model_key(copy) == features.model_key(model)
    layer = features._layer(copy, features.conv_layers(copy)[0][0])
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias + 1.0])
    assert features.model_key(copy) != features.model_key(model)


def test_grid_figure_draws_the_pictures_unscaled_with_their_labels():
    pictures = np.zeros((3, 5, 5, 1), np.float32)
    pictures[1, 2, 2, 0] = 1.0
    figure = feature_charts.feature_grid_figure(pictures, ["a", "b", "c"], "t")
    image = np.asarray(figure.data[0].z)
    assert image.max() == 255 and image[2, 6 + 2].tolist() == [255, 255, 255]
    assert [a.text for a in figure.layout.annotations] == ["a", "b", "c"]
    colour = np.zeros((2, 4, 4, 3), np.float32)
    colour[0, 1, 1] = [1.0, 0.5, 0.0]
    image = np.asarray(feature_charts.feature_grid_figure(colour, ["x", "y"]).data[0].z)
    assert image[1, 1].tolist() == [255, 128, 0]      # colour kept, not averaged
    with pytest.raises(ValueError, match="pictures must be"):
        feature_charts.feature_grid_figure(np.zeros((2, 5, 5)), ["a", "b"])


def test_the_figures_pass_plotlys_validation():
    """Built with fast_figure (no validation): plotly's validators must accept them."""
    import plotly.graph_objects as go

    bars = feature_charts.activation_comparison_figure(
        ["0", "1"], np.array([2.0, 3.0]), np.array([1.0, 1.5]), "t", axis_title="filter",
        value_title="mean activation")
    grid = feature_charts.feature_grid_figure(np.zeros((3, 5, 5, 1), np.float32), "abc", "g")
    for figure in (bars, grid):
        spec = figure.to_dict()
        assert len(go.Figure(spec).data) == len(spec["data"]) > 0
    assert [list(trace.y) for trace in bars.data] == [[2.0, 3.0], [1.0, 1.5]]


def test_the_inspector_generates_once_and_reads_the_grid_back(monkeypatch):
    import streamlit as st

    st.cache_data.clear()
    calls = []
    real = features.visualise

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "visualise", counted)
    at = app_test("inspector", timeout=120)      # the pretrained model: no saved run
    assert not at.exception and "What a filter wants to see" in [s.value for s in at.subheader]
    assert calls == []                            # nothing is made before "Generate"
    at.button(key="features_generate").click().run()
    assert not at.exception and not at.error
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
              for c in at.get("plotly_chart")]
    assert any(t.startswith("What each unit of") and "(128 steps)" in t for t in titles)
    assert any(t.startswith("Each generated picture against") for t in titles)
    # A closer look at filter 3: its picture beside the test digit that excites it most.
    at.selectbox(key="features_unit").set_value(3).run()
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
              for c in at.get("plotly_chart")]
    generated = [t for t in titles if t.startswith("Generated for 3: ")]
    best = [t for t in titles if t.startswith("The test picture that excites it most: ")]
    assert len(generated) == 1 and len(best) == 1
    first = features.conv_layers(pretrained.pretrained_model())[0][0]
    digits = mnist.float_test_set()[0][:1000]
    expected = features.filter_activations(pretrained.pretrained_model(), first, digits)[:, 3]
    assert float(best[0].rsplit(": ", 1)[1]) == pytest.approx(expected.max(), abs=1e-3)
    assert float(generated[0].rsplit(": ", 1)[1]) > expected.max()
    at.selectbox(key="features_layer").set_value(features.CLASS_OBJECTIVE).run()
    at.selectbox(key="features_layer").set_value(first).run()
    assert not at.exception
    assert calls == [first]                       # reruns and coming back: read from the cache
