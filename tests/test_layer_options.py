"""The Keras chapter's layer options (kernel / bias initializers and regularizers) in the network
description, the built model, the Keras code, the read-back from Keras models, and the Shape Lab.

Every built layer is compared with the same layer made by Keras itself from Keras' own objects
(``keras.initializers.RandomNormal(stddev=0.01)``, ``keras.regularizers.L2(0.001)``, ...), and
the weights are checked to start as the initializer says.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from playground.core import network
from playground.shape_lab import lab
from tests.helpers import app_test

keras = pytest.importorskip("keras")
models = pytest.importorskip("playground.training.models")

INPUT = [8, 8, 2]
K, R = keras.initializers, keras.regularizers

# (spec options, the same options as Keras objects). One case per option form.
CASES = {
    "course RandomNormal(stddev=0.01) kernel": (
        {"kernel_initializer": {"class": "RandomNormal", "stddev": 0.01}},
        lambda: {"kernel_initializer": K.RandomNormal(stddev=0.01)}),
    "RandomNormal with a mean, Constant(2.0) bias": (
        {"kernel_initializer": {"class": "RandomNormal", "mean": 0.5, "stddev": 0.2},
         "bias_initializer": {"class": "Constant", "value": 2.0}},
        lambda: {"kernel_initializer": K.RandomNormal(mean=0.5, stddev=0.2),
                 "bias_initializer": K.Constant(2.0)}),
    "he_normal kernel, ones bias": (
        {"kernel_initializer": "he_normal", "bias_initializer": "ones"},
        lambda: {"kernel_initializer": K.HeNormal(), "bias_initializer": K.Ones()}),
    "orthogonal kernel": (
        {"kernel_initializer": "orthogonal"}, lambda: {"kernel_initializer": K.Orthogonal()}),
    "zeros kernel": ({"kernel_initializer": "zeros"}, lambda: {"kernel_initializer": K.Zeros()}),
    "Keras' defaults named": (
        {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"},
        lambda: {"kernel_initializer": K.GlorotUniform(), "bias_initializer": K.Zeros()}),
    "L2 kernel, L1 bias": (
        {"kernel_regularizer": {"l2": 0.001}, "bias_regularizer": {"l1": 0.3}},
        lambda: {"kernel_regularizer": R.L2(0.001), "bias_regularizer": R.L1(0.3)}),
    "L1L2 kernel with every initializer option": (
        {"kernel_regularizer": {"l1": 0.01, "l2": 0.02}, "bias_regularizer": {"l2": 0.5},
         "kernel_initializer": "lecun_uniform", "bias_initializer": {"class": "Constant",
                                                                      "value": -0.25}},
        lambda: {"kernel_regularizer": R.L1L2(l1=0.01, l2=0.02), "bias_regularizer": R.L2(0.5),
                 "kernel_initializer": K.LecunUniform(), "bias_initializer": K.Constant(-0.25)}),
}


def _spec(kind: str, options: dict) -> dict:
    if kind == "Conv2D":
        layer = {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same",
                 "activation": "relu"}
    else:
        layer = {"type": "Dense", "units": 5, "activation": "tanh"}
    return {"input_shape": INPUT, "layers": [{**layer, **options}]}


def _keras_layer(kind: str, objects: dict):
    if kind == "Conv2D":
        return keras.layers.Conv2D(filters=4, kernel_size=3, padding="same", activation="relu",
                                   **objects)
    return keras.layers.Dense(units=5, activation="tanh", **objects)


def _config(layer) -> str:
    config = dict(layer.get_config())
    config.pop("name", None)
    return json.dumps(config, sort_keys=True, default=str)


# --- built model == Keras' own layer -------------------------------------------------------
@pytest.mark.parametrize("kind", ["Conv2D", "Dense"])
@pytest.mark.parametrize("case", list(CASES))
def test_built_layer_config_equals_keras_own(kind, case):
    options, objects = CASES[case]
    model = models.build_model(_spec(kind, options))
    expected = _keras_layer(kind, objects())
    assert _config(model.layers[-1]) == _config(expected)


def test_config_really_carries_the_options():
    """The comparison above is not vacuous: the course's options differ from Keras' defaults."""
    options, _ = CASES["L1L2 kernel with every initializer option"]
    built = models.build_model(_spec("Conv2D", options)).layers[-1].get_config()
    default = models.build_model(_spec("Conv2D", {})).layers[-1].get_config()
    for key in network.LAYER_OPTIONS:
        assert built[key] != default[key], key
    assert built["kernel_regularizer"]["class_name"] == "L1L2"
    assert built["bias_initializer"]["config"]["value"] == -0.25


def test_weights_start_as_the_initializer_says():
    spec = {"input_shape": [16, 16, 8], "layers": [
        {"type": "Conv2D", "filters": 64, "kernel_size": 3,
         "kernel_initializer": {"class": "RandomNormal", "stddev": 0.01},
         "bias_initializer": {"class": "Constant", "value": 2.0}},
        {"type": "Conv2D", "filters": 2, "kernel_size": 1, "kernel_initializer": "ones",
         "bias_initializer": "ones"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3, "kernel_initializer": "zeros"}]}
    keras.utils.set_random_seed(0)
    conv, ones, _, dense = models.build_model(spec).layers
    kernel, bias = (w.numpy() for w in conv.weights)
    assert kernel.shape == (3, 3, 8, 64)
    assert abs(kernel.std() - 0.01) < 0.0005 and abs(kernel.mean()) < 0.0005
    assert np.all(bias == 2.0)
    assert all(np.all(w.numpy() == 1.0) for w in ones.weights)
    assert np.all(dense.weights[0].numpy() == 0.0) and np.all(dense.weights[1].numpy() == 0.0)


def test_regularizers_add_their_penalty_to_the_loss():
    spec = {"input_shape": [6, 6, 1], "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "kernel_regularizer": {"l2": 0.01},
         "bias_initializer": {"class": "Constant", "value": 0.5},
         "bias_regularizer": {"l1": 0.1}},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2, "kernel_regularizer": {"l1": 0.001, "l2": 0.002}}]}
    model = models.build_model(spec)
    conv_kernel, conv_bias = (w.numpy().astype(np.float64) for w in model.layers[0].weights)
    dense_kernel = model.layers[2].weights[0].numpy().astype(np.float64)
    expected = (0.01 * np.sum(conv_kernel ** 2) + 0.1 * np.sum(np.abs(conv_bias))
                + 0.001 * np.sum(np.abs(dense_kernel)) + 0.002 * np.sum(dense_kernel ** 2))
    model(np.zeros((1, 6, 6, 1), np.float32))
    assert float(sum(loss.numpy() for loss in model.losses)) == pytest.approx(expected, rel=1e-5)
    assert 0.1 * 3 * 0.5 < expected  # the bias penalty alone is 0.15: not a zero-vs-zero check


def test_a_network_with_options_trains_as_a_classifier():
    spec = {"input_shape": [28, 28, 1], "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2,
         "kernel_initializer": {"class": "RandomNormal", "stddev": 0.01},
         "kernel_regularizer": {"l2": 0.001}},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "activation": "softmax", "kernel_initializer": "he_normal",
         "bias_regularizer": {"l1": 0.01}}]}
    model = models.build_for_training(spec, {"optimizer": "SGD", "learning_rate": 0.1,
                                             "seed": 3})
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 16)
    loss, _ = model.train_on_batch(x, y)
    assert math.isfinite(float(loss))
    assert model.layers[0].get_config()["kernel_initializer"]["config"]["stddev"] == 0.01


# --- Keras code ----------------------------------------------------------------------------
ALL_OPTIONS_SPEC = {"input_shape": [12, 12, 3], "layers": [
    {"type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": 1,
     "kernel_initializer": {"class": "RandomNormal", "stddev": 0.01},
     "bias_initializer": {"class": "Constant", "value": 2.0},
     "kernel_regularizer": {"l2": 0.001}, "bias_regularizer": {"l1": 0.3, "l2": 0.01}},
    {"type": "MaxPool2D", "pool_size": 2, "strides": 2},
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "sigmoid",
     "kernel_initializer": "orthogonal", "bias_initializer": "ones"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 16, "activation": "tanh", "kernel_initializer": "he_normal",
     "kernel_regularizer": {"l1": 0.0001}},
    {"type": "Dense", "units": 10, "activation": "softmax",
     "kernel_initializer": {"class": "RandomNormal", "mean": -0.1, "stddev": 0.05}}]}


def test_keras_code_builds_exactly_the_built_model():
    code = network.keras_code(ALL_OPTIONS_SPEC)
    assert "kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)" in code
    assert "bias_initializer=keras.initializers.Constant(value=2.0)" in code
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.001)" in code
    assert "bias_regularizer=keras.regularizers.L1L2(l1=0.3, l2=0.01)" in code
    assert 'kernel_initializer="he_normal"' in code
    assert max(len(line) for line in code.splitlines()) <= 99
    namespace: dict = {}
    exec(compile(code.replace("model.summary()", ""), "<keras_code>", "exec"), namespace)
    from_code, built = namespace["model"], models.build_model(ALL_OPTIONS_SPEC)
    assert [type(layer).__name__ for layer in from_code.layers] == \
        [type(layer).__name__ for layer in built.layers]
    assert [_config(layer) for layer in from_code.layers] == \
        [_config(layer) for layer in built.layers]


def test_keras_code_of_a_network_without_options_is_unchanged():
    code = network.keras_code(network.PRESETS["Course CNN (2 conv)"])
    assert "initializer" not in code and "regularizer" not in code
    assert 'layers.Conv2D(filters=32, kernel_size=3, padding="same", activation="relu"),' in code


# --- Keras model -> spec -------------------------------------------------------------------
def test_spec_from_model_round_trips_every_option():
    spec = network.validate(ALL_OPTIONS_SPEC)
    back, _ = network.spec_from_model(models.build_model(spec))
    assert back == spec
    assert back["layers"][0]["bias_regularizer"] == {"l1": 0.3, "l2": 0.01}


def test_spec_from_a_model_written_with_keras_objects():
    model = keras.Sequential([
        keras.Input(shape=(10, 10, 1)),
        keras.layers.Conv2D(8, 3, activation="relu",
                            kernel_initializer=K.RandomNormal(stddev=0.01),
                            bias_initializer=K.Constant(0.1),
                            kernel_regularizer=R.L1(0.3)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", kernel_initializer="he_uniform",
                           bias_regularizer=R.L1L2(l1=0.0, l2=0.002))])
    # Keras keeps an L1 factor as float32: the spec reads back the decimal that was written.
    assert model.layers[0].get_config()["kernel_regularizer"]["config"]["l1"] != 0.3
    spec, _ = network.spec_from_model(model)
    conv, _, dense = spec["layers"]
    assert conv["kernel_initializer"] == {"class": "RandomNormal", "stddev": 0.01}
    assert conv["bias_initializer"] == {"class": "Constant", "value": 0.1}
    assert conv["kernel_regularizer"] == {"l1": 0.3}
    assert dense["kernel_initializer"] == "he_uniform"
    assert dense["bias_regularizer"] == {"l1": 0.0, "l2": 0.002}
    rebuilt = models.build_model(spec)
    assert [_config(layer) for layer in rebuilt.layers] == \
        [_config(layer) for layer in model.layers]


def test_options_the_spec_cannot_say_are_left_out_and_the_shape_kept():
    model = keras.Sequential([
        keras.Input(shape=(10, 10, 1)),
        keras.layers.Conv2D(8, 3, kernel_initializer=K.RandomNormal(stddev=0.01, seed=7),
                            bias_initializer=K.TruncatedNormal()),
        keras.layers.Flatten(),
        keras.layers.Dense(3, kernel_initializer=K.Orthogonal(gain=2.0),
                           kernel_regularizer=R.OrthogonalRegularizer(),
                           bias_initializer=K.Constant(1e9))])
    spec, _ = network.spec_from_model(model)
    for layer in spec["layers"]:
        assert not set(layer) & set(network.LAYER_OPTIONS), layer
    assert [row.output_shape for row in network.layer_rows(spec)] == [(8, 8, 8), (512,), (3,)]


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("key, value, words", [
    ("kernel_initializer", "os.system", "kernel_initializer must be one of glorot_uniform"),
    ("kernel_initializer", "GlorotUniform", "kernel_initializer must be one of"),
    ("kernel_initializer", "__import__('os').system('true')", "kernel_initializer must be"),
    ("bias_initializer", {"class": "TruncatedNormal"}, "bias_initializer must be a name or"),
    ("bias_initializer", {"class_name": "Constant", "config": {"value": 2}}, "must be a name"),
    ("kernel_initializer", ["he_normal"], "kernel_initializer must be a name"),
    ("kernel_initializer", {"class": "RandomNormal", "stddev": 0}, "stddev must be in (0, 1000]"),
    ("kernel_initializer", {"class": "RandomNormal", "stddev": -0.01}, "stddev must be in"),
    ("kernel_initializer", {"class": "RandomNormal", "stddev": float("inf")}, "stddev must be"),
    ("kernel_initializer", {"class": "RandomNormal", "stddev": "0.01"}, "stddev must be a number"),
    ("kernel_initializer", {"class": "RandomNormal", "stddev": True}, "stddev must be a number"),
    ("kernel_initializer", {"class": "RandomNormal", "mean": 1e6}, "mean must be in"),
    ("kernel_initializer", {"class": "RandomNormal", "seed": 1}, "RandomNormal takes mean, "
                                                                  "stddev, got 'seed'"),
    ("bias_initializer", {"class": "Constant", "value": float("nan")}, "value must be in"),
    ("bias_initializer", {"class": "Constant", "value": 10 ** 400}, "value must be in"),
    ("kernel_regularizer", "l2", 'kernel_regularizer must be {"l1": factor}'),
    ("kernel_regularizer", {}, "kernel_regularizer must be"),
    ("kernel_regularizer", {"l3": 0.1}, "kernel_regularizer must be"),
    ("bias_regularizer", {"l2": -0.1}, "bias_regularizer: l2 must be in [0, 100]"),
    ("bias_regularizer", {"l1": 1e6}, "bias_regularizer: l1 must be in [0, 100]"),
    ("bias_regularizer", {"l1": None}, "bias_regularizer: l1 must be a number"),
    ("kernel_regularizer", {"l2": 0.1, "class_name": "L2"}, "kernel_regularizer must be"),
])
@pytest.mark.parametrize("kind", ["Conv2D", "Dense"])
def test_bad_options_are_refused_in_one_line_naming_the_field(kind, key, value, words):
    spec = _spec(kind, {key: value})
    with pytest.raises(ValueError) as caught:
        network.validate(spec)
    message = str(caught.value)
    assert message.startswith(f"layer 1: {key}") and words in message
    assert "\n" not in message
    (row,) = network.layer_rows(spec)
    assert row.output_shape is None and row.error.startswith(key)


def test_a_huge_bad_value_gives_a_short_message():
    spec = _spec("Conv2D", {"kernel_initializer": "x" * 100_000})
    with pytest.raises(ValueError, match="kernel_initializer must be one of") as caught:
        network.validate(spec)
    assert len(str(caught.value)) < 300


def test_defaults_named_in_a_spec_are_left_out_and_absent_means_default():
    named = _spec("Dense", {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                            "kernel_regularizer": None, "bias_regularizer": ""})
    assert network.validate(named) == network.validate(_spec("Dense", {}))
    assert not set(network.validate(named)["layers"][0]) & set(network.LAYER_OPTIONS)


def test_normalized_values_are_plain_json_that_validates_to_itself():
    spec = network.validate(ALL_OPTIONS_SPEC)
    assert network.from_json(network.to_json(spec)) == spec
    assert spec["layers"][0]["kernel_initializer"] == {"class": "RandomNormal", "stddev": 0.01}
    assert spec["layers"][4]["kernel_regularizer"] == {"l1": 0.0001}


@pytest.mark.parametrize("value, text", [
    ("he_normal", "he_normal"),
    ({"class": "RandomNormal", "stddev": 0.01}, "RandomNormal(stddev=0.01)"),
    ({"class": "RandomNormal", "mean": 0.5, "stddev": 0.2}, "RandomNormal(mean=0.5, stddev=0.2)"),
    ({"class": "Constant", "value": 2.0}, "Constant(2.0)"),
    ({"l2": 0.001}, "L2(0.001)"),
    ({"l1": 0.01}, "L1(0.01)"),
    ({"l1": 1e-05, "l2": 0.02}, "L1L2(l1=1e-05, l2=0.02)"),
])
def test_option_text_and_back(value, text):
    assert network.option_text(value) == text
    assert network.option_from_text(text) == value


@pytest.mark.parametrize("text", ["eval('1')", "Constant(2.0); import os", "RandomNormal(x)",
                                  "L2(1e999999)x", "Constant(__import__('os'))"])
def test_text_in_no_option_form_is_passed_on_to_be_refused(text):
    assert network.option_from_text(text) == text
    with pytest.raises(ValueError, match="kernel_initializer must be one of"):
        network.validate(_spec("Conv2D", {"kernel_initializer": network.option_from_text(text)}))


def test_describe_names_the_options_after_the_shape():
    rows = network.layer_rows(ALL_OPTIONS_SPEC)
    assert rows[0].description == (
        "3×3×6, stride 1, padding 1, relu, kernel RandomNormal(stddev=0.01) + L2(0.001), "
        "bias Constant(2.0) + L1L2(l1=0.3, l2=0.01)")
    assert rows[4].description == "16 units, tanh, kernel he_normal + L1(0.0001)"


# --- the Shape Lab's table -----------------------------------------------------------------
def test_editor_rows_round_trip_the_options_and_links_stay_short():
    spec = network.validate(ALL_OPTIONS_SPEC)
    rows = lab.spec_to_rows(spec)
    assert rows[0]["kernel_initializer"] == "RandomNormal(stddev=0.01)"
    assert rows[0]["bias_regularizer"] == "L1L2(l1=0.3, l2=0.01)"
    assert rows[2]["kernel_regularizer"] == "none" and rows[1]["kernel_initializer"] == ""
    assert rows[5]["bias_initializer"] == "zeros"  # Keras' default, shown by its name
    again = lab.rows_to_spec(spec["input_shape"], lab.editor_frame(spec))
    assert network.validate(again) == spec
    compact = lab.compact_spec(again)
    assert network.validate(compact) == spec
    assert "bias_initializer" not in compact["layers"][5]
    plain = network.preset("Course CNN (2 conv)")
    link = network.to_json(lab.compact_spec(lab.rows_to_spec(plain["input_shape"],
                                                             lab.spec_to_rows(plain))))
    assert "initializer" not in link and "regularizer" not in link


def test_option_columns_offer_the_course_choices_and_the_links_own():
    spec = _spec("Conv2D", {"kernel_initializer": {"class": "RandomNormal", "stddev": 0.05}})
    choices = lab.option_choices(lab.editor_frame(spec))
    assert {"glorot_uniform", "he_normal", "orthogonal", "zeros", "ones",
            "RandomNormal(stddev=0.01)", "Constant(2.0)"} <= set(choices["kernel_initializer"])
    assert "RandomNormal(stddev=0.05)" in choices["kernel_initializer"]
    assert "RandomNormal(stddev=0.05)" not in choices["bias_initializer"]
    assert {"none", "L1(0.01)", "L2(0.001)"} <= set(choices["kernel_regularizer"])
    for key, texts in choices.items():  # every offered choice is a valid value of its column
        for text in texts:
            network.normalize_option(key, network.option_from_text(text))


def _query(at, key):
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def test_shape_lab_option_set_in_the_table_reaches_the_keras_code_and_the_link():
    at = app_test("shape_lab")
    assert not at.exception
    (editor,) = at.data_editor
    assert editor.value.columns.tolist()[-4:] == list(network.LAYER_OPTIONS)
    # What a person's clicks in the table's selectboxes send (AppTest seeds an editor's edits).
    at.session_state[editor.key] = {
        "edited_rows": {0: {"kernel_initializer": "RandomNormal(stddev=0.01)",
                            "bias_initializer": "Constant(0.1)"},
                        5: {"kernel_regularizer": "L2(0.001)"}},
        "added_rows": [], "deleted_rows": []}
    at.session_state["sl_keras_code"] = True
    at.run()
    assert not at.exception and not at.warning
    code = at.get("code")[0].value
    assert "kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)" in code
    assert "bias_initializer=keras.initializers.Constant(value=0.1)" in code
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.001)" in code
    link = json.loads(_query(at, "net"))
    assert link["layers"][0]["kernel_initializer"] == {"class": "RandomNormal", "stddev": 0.01}
    assert link["layers"][0]["bias_initializer"] == {"class": "Constant", "value": 0.1}
    assert link["layers"][5]["kernel_regularizer"] == {"l2": 0.001}
    # The page's code builds the model the link describes.
    namespace: dict = {}
    exec(compile(code.replace("model.summary()", ""), "<page code>", "exec"), namespace)
    assert [_config(layer) for layer in namespace["model"].layers] == \
        [_config(layer) for layer in models.build_model(link).layers]
    # The settings column names the options too.
    (table,) = [df.value for df in at.dataframe if "settings" in df.value.columns]
    assert "kernel RandomNormal(stddev=0.01), bias Constant(0.1)" in table["settings"][1]

    # The link reopens the table with the options in their cells.
    again = app_test("shape_lab", query={"net": _query(at, "net")})
    assert not again.exception
    frame = again.data_editor[0].value
    assert frame["kernel_initializer"][0] == "RandomNormal(stddev=0.01)"
    assert frame["kernel_regularizer"][5] == "L2(0.001)"
    assert frame["bias_initializer"][2] == "zeros"


def test_shape_lab_link_with_a_bad_option_explains_it():
    spec = _spec("Conv2D", {"kernel_initializer": {"class": "os.system", "value": 1}})
    at = app_test("shape_lab", query={"net": json.dumps(spec)})
    assert not at.exception
    assert any(w.value.startswith("Layer 1 (Conv2D): kernel_initializer must be")
               for w in at.warning)

