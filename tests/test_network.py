"""playground.core.network: every row of the layer table equals what the built Keras model reports.

The table's shapes and parameter counts come from pure Python (playground.core.shapes); here each
one is compared with the Keras layer that models.build_model creates, and the copyable code
from network.keras_code is executed to check that it builds exactly the same model.
"""
from __future__ import annotations

import json

import pytest

from playground.core import network

keras = pytest.importorskip("keras")
models = pytest.importorskip("playground.training.models")

CUSTOM_SPECS = {
    "explicit padding, rectangular kernel, pair strides": {
        "input_shape": [30, 20, 3],
        "layers": [
            {"type": "Conv2D", "filters": 5, "kernel_size": [3, 5], "strides": [2, 1],
             "padding": 1, "activation": "relu"},
            {"type": "AveragePool2D", "pool_size": 3, "strides": 2, "padding": "same"},
            {"type": "ReLU"},
            {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": 3, "padding": "valid"},
            {"type": "Flatten"},
            {"type": "Dropout", "rate": 0.25},
            {"type": "Dense", "units": 7, "activation": "tanh"},
        ],
    },
    "dilation and Dense on a 3-D input": {
        "input_shape": [17, 13, 2],
        "layers": [
            {"type": "Conv2D", "filters": 3, "kernel_size": 3, "dilation": 2, "padding": "same"},
            {"type": "MaxPool2D", "pool_size": [2, 3], "strides": [1, 2], "padding": "valid"},
            {"type": "Conv2D", "filters": 6, "kernel_size": [4, 2], "dilation": [1, 3],
             "padding": 0, "activation": "sigmoid"},
            {"type": "Dense", "units": 5, "activation": "softmax"},
        ],
    },
    "stride larger than kernel, odd leftovers": {
        "input_shape": [11, 9, 1],
        "layers": [
            {"type": "Conv2D", "filters": 2, "kernel_size": 2, "strides": 3, "padding": 2},
            {"type": "MaxPool2D", "pool_size": 2, "padding": "same"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 3},
        ],
    },
}
ALL_SPECS = {**{f"preset {name}": spec for name, spec in network.PRESETS.items()},
             **CUSTOM_SPECS}


def _row_layers(model, spec):
    """The keras layer each table row corresponds to: the last one of each keras_layers group."""
    groups = network.keras_layers(spec)
    index, picked = -1, []
    for group in groups:
        index += len(group)
        picked.append(model.layers[index])
    assert index == len(model.layers) - 1
    return picked


@pytest.fixture(scope="module")
def built():
    return {name: models.build_model(spec) for name, spec in ALL_SPECS.items()}


@pytest.mark.parametrize("name", list(ALL_SPECS))
def test_each_row_matches_the_keras_layer(name, built):
    spec, model = ALL_SPECS[name], built[name]
    rows = network.layer_rows(spec)
    assert all(row.error is None for row in rows)
    groups = network.keras_layers(spec)
    start = 0
    for row, group in zip(rows, groups):
        layers = model.layers[start:start + len(group)]
        start += len(group)
        assert tuple(layers[-1].output.shape[1:]) == row.output_shape, (row, layers[-1].name)
        # ZeroPadding2D has no weights, so the group's params are the Conv2D's.
        assert sum(layer.count_params() for layer in layers) == row.params, row
    assert start == len(model.layers)
    assert network.total_params(spec) == model.count_params()
    assert network.output_shape(spec) == tuple(model.layers[-1].output.shape[1:])


def test_explicit_padding_becomes_zero_padding_then_valid_conv(built):
    model = built["explicit padding, rectangular kernel, pair strides"]
    first, second = model.layers[0], model.layers[1]
    assert isinstance(first, keras.layers.ZeroPadding2D)
    assert first.get_config()["padding"] == ((1, 1), (1, 1))
    assert isinstance(second, keras.layers.Conv2D)
    assert second.get_config()["padding"] == "valid"


def _config(layer):
    config = dict(layer.get_config())
    config.pop("name", None)
    return type(layer).__name__, json.dumps(config, sort_keys=True, default=str)


@pytest.mark.parametrize("name", list(ALL_SPECS))
def test_keras_code_builds_exactly_the_same_model(name, built):
    code = network.keras_code(ALL_SPECS[name]).replace("model.summary()", "")
    namespace: dict = {}
    exec(compile(code, f"<keras_code {name}>", "exec"), namespace)
    from_code, expected = namespace["model"], built[name]
    assert [_config(layer) for layer in from_code.layers] == \
        [_config(layer) for layer in expected.layers]
    assert [layer.count_params() for layer in from_code.layers] == \
        [layer.count_params() for layer in expected.layers]
    assert tuple(from_code.input_shape) == tuple(expected.input_shape)


def test_keras_sequential_preset_has_619786_parameters(built):
    assert network.total_params(network.PRESETS["Keras Sequential CNN"]) == 619_786
    assert built["preset Keras Sequential CNN"].count_params() == 619_786


def test_lecture_preset_32x32x3_six_5x5_filters():
    (row,) = network.layer_rows(network.PRESETS["32×32×3 image, six 5×5 filters"])
    assert (row.output_shape, row.params) == ((28, 28, 6), 456)


def test_course_cnn_rows_literal():
    rows = network.layer_rows(network.PRESETS["Course CNN (2 conv)"])
    assert [(r.output_shape, r.params) for r in rows] == [
        ((28, 28, 32), 320), ((14, 14, 32), 0), ((14, 14, 64), 18496), ((7, 7, 64), 0),
        ((3136,), 0), ((10,), 31370)]


def test_convnetjs_preset_rows_literal():
    rows = network.layer_rows(network.PRESETS["ConvNetJS MNIST demo"])
    assert [r.output_shape for r in rows] == [(24, 24, 8), (12, 12, 8), (12, 12, 16),
                                              (4, 4, 16), (256,), (10,)]
    assert [r.params for r in rows] == [208, 0, 3216, 0, 0, 2570]


# --- bad specs: a readable error in the row, never an exception from layer_rows ---------------
def test_layer_that_does_not_fit_marks_itself_and_the_rows_after_it():
    spec = {"input_shape": [5, 5, 1], "layers": [
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "valid"},
        {"type": "Conv2D", "filters": 2, "kernel_size": 5, "padding": "valid"},
        {"type": "Flatten"}]}
    rows = network.layer_rows(spec)
    assert rows[0].output_shape == (3, 3, 2) and rows[0].error is None
    assert rows[1].output_shape is None and "kernel_size" in rows[1].error
    assert rows[2].error == "follows a layer that does not fit"
    with pytest.raises(ValueError, match="^layer 2: kernel_size"):
        network.validate(spec)


@pytest.mark.parametrize("layer, word", [
    ({"type": "Conv3D"}, "type"),
    ({"type": "Conv2D", "filters": 0}, "filters"),
    ({"type": "Conv2D", "strides": 0}, "strides"),
    ({"type": "Conv2D", "dilation": 0}, "dilation"),
    ({"type": "MaxPool2D", "strides": 0}, "strides"),
    ({"type": "Conv2D", "padding": "full"}, "padding"),
    ({"type": "Conv2D", "strides": 2, "dilation": 2}, "strides"),
    ({"type": "Conv2D", "activation": "gelu2"}, "activation"),
    ({"type": "MaxPool2D", "padding": 1}, "padding"),
    ({"type": "Dense", "units": -3}, "units"),
    ({"type": "Dropout", "rate": 1.0}, "rate"),
    ({"type": "Dropout", "rate": "lots"}, "rate"),
])
def test_bad_layer_gives_a_row_error_naming_the_field(layer, word):
    (row,) = network.layer_rows({"input_shape": [8, 8, 1], "layers": [layer]})
    assert row.output_shape is None and word in row.error


def test_conv_after_flatten_is_explained():
    (_, row) = network.layer_rows({"input_shape": [8, 8, 1], "layers": [
        {"type": "Flatten"}, {"type": "Conv2D"}]})
    assert "needs an (H, W, C) input" in row.error


@pytest.mark.parametrize("shape", [[28, 28], [0, 28, 1], "28x28", None])
def test_bad_input_shape_raises_naming_input_shape(shape):
    with pytest.raises(ValueError, match="input_shape"):
        network.layer_rows({"input_shape": shape, "layers": []})


def test_json_round_trip_keeps_the_network():
    for spec in ALL_SPECS.values():
        again = network.from_json(network.to_json(spec))
        assert network.layer_rows(again) == network.layer_rows(spec)


@pytest.mark.parametrize("text", ["{", "[1, 2]", '{"input_shape": [28, 28, 1], "layers": '
                                                 '[{"type": "Dense", "units": 0}]}'])
def test_from_json_rejects_bad_text_with_value_error(text):
    with pytest.raises(ValueError):
        network.from_json(text)


def test_preset_returns_a_copy():
    spec = network.preset("Course CNN (2 conv)")
    spec["layers"].clear()
    assert network.PRESETS["Course CNN (2 conv)"]["layers"]
    with pytest.raises(ValueError, match="preset"):
        network.preset("no such net")


@pytest.mark.parametrize("name", list(ALL_SPECS))
def test_spec_to_keras_to_spec_round_trip_keeps_every_row(name, built):
    """network.spec_from_model inverts keras_layers: the model built from a spec reads back as
    a spec with the same rows (shapes, parameters, descriptions), each pointing at its layer."""
    spec = ALL_SPECS[name]
    back = network.spec_from_model(built[name])
    assert back is not None, f"{name}: the built model did not read back as a spec"
    again, index = back
    # Zero pixels of explicit padding build no ZeroPadding2D: Keras holds a VALID layer.
    same_net = {**spec, "layers": [{**layer, "padding": "valid"} if layer.get("padding") == 0
                                   else layer for layer in spec["layers"]]}
    assert network.layer_rows(again) == network.layer_rows(same_net)
    assert [built[name].layers[i] for i in index] == _row_layers(built[name], spec)


def test_batch_norm_matches_keras_shapes_parameters_code_and_round_trip():
    """BatchNorm: the table's shape and parameter count (γ, β, moving mean and variance: 4 per
    channel) are Keras' own, its code builds the same model, and Keras' layer reads back."""
    import keras

    from playground.training import models
    spec = {"input_shape": [12, 10, 3], "layers": [
        {"type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": "valid",
         "activation": None},
        {"type": "BatchNorm"}, {"type": "ReLU"}, {"type": "Flatten"},
        {"type": "Dense", "units": 5, "activation": "softmax"}]}
    model = models.build_model(spec)
    rows = network.layer_rows(spec)
    batch_norm = model.layers[1]
    assert type(batch_norm).__name__ == "BatchNormalization"
    assert rows[1].params == batch_norm.count_params() == 4 * 6
    assert rows[1].output_shape == tuple(batch_norm.output.shape[1:]) == (10, 8, 6)
    assert network.total_params(spec) == model.count_params()
    namespace: dict = {}
    exec(network.keras_code(spec), namespace)
    assert [type(layer).__name__ for layer in namespace["model"].layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert namespace["model"].count_params() == model.count_params()
    again, _ = network.spec_from_model(model)
    assert again == network.validate(spec)
    # A batch norm over another axis has no counterpart in the table.
    other = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.BatchNormalization(axis=1)])
    assert network.spec_from_model(other) is None


def test_batch_norm_uses_a_momentum_short_runs_can_follow():
    """The moving statistics inference uses follow the data within tens of steps (momentum
    0.9, not Keras' 0.99): the built layer, and the exported code, say so."""
    from playground.training import models
    spec = {"input_shape": [8, 8, 2], "layers": [{"type": "BatchNorm"}, {"type": "Flatten"},
                                                 {"type": "Dense", "units": 3,
                                                  "activation": "softmax"}]}
    layer = models.build_model(spec).layers[0]
    assert layer.momentum == network.BATCH_NORM_MOMENTUM == 0.9
    assert "layers.BatchNormalization(momentum=0.9)" in network.keras_code(spec)
