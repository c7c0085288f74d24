"""network_from_code: the course's snippets and the variations a learner types parse to the right
network; hostile code gets a one-line message and is never run; keras_code / tf1_code round
trips; hypothesis fuzzes the parser. Keras' own models (built by running the trusted snippets
here, in the test) are the oracle for the parameter counts and shapes."""
from __future__ import annotations

import math
import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.core import network
from playground.core.code import MAX_CHARS, network_from_code, tf1_code

SNIPPETS = Path(__file__).parent / "data" / "snippets"
SNIPPET_FILES = sorted(SNIPPETS.glob("*.py"))


def conv(filters, kernel=3, padding="same", activation="relu", strides=1):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel, "strides": strides,
            "padding": padding, "dilation": 1, "activation": activation}


def pool(size=2, strides=None, padding="same", kind="MaxPool2D"):
    return {"type": kind, "pool_size": size, "strides": strides, "padding": padding}


def dense(units, activation=None):
    return {"type": "Dense", "units": units, "activation": activation}


FLAT = {"type": "Flatten"}


def dropout(rate):
    return {"type": "Dropout", "rate": rate}


def spec(input_shape, *layers):
    return network.validate({"input_shape": list(input_shape), "layers": list(layers)})


# Each snippet's first line, written out as a spec.
EXPECTED = {
    "keras_sequential_mnist.py": spec(
        (28, 28, 1), conv(32), pool(), conv(64), pool(), conv(128), pool(), FLAT,
        dense(256, "relu"), dropout(0.4), dense(10)),
    "keras_list_dense.py": spec((1, 1, 32), dense(64, "relu"), dense(64, "relu"),
                                dense(10, "softmax")),
    "tf1_simple_cnn.py": spec((28, 28, 1), conv(32), pool(), conv(64), pool(), FLAT, dense(10)),
    # keep_prob is a placeholder with no feed_dict in the snippet: Dropout's default rate.
    "tf1_deep_cnn.py": spec((28, 28, 1), conv(32), pool(), dropout(0.5), conv(64), pool(),
                            dropout(0.5), conv(128), pool(), dropout(0.5), FLAT,
                            dense(625, "relu"), dropout(0.5), dense(10)),
}


def test_every_snippet_has_an_expectation():
    assert {f.name for f in SNIPPET_FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=lambda p: p.name)
def test_snippet_parses_to_the_network_of_its_first_line(path):
    text = path.read_text()
    got = network_from_code(text)
    assert got == EXPECTED[path.name]
    first = text.splitlines()[0]
    rows = [row.params for row in network.layer_rows(got)]
    if "rows" in first:  # "... 619,786 parameters; rows 320, 0, 18496, ..."
        total = int(re.search(r"([\d,]+) parameters", first)[1].replace(",", ""))
        listed = [int(v) for v in re.findall(r"\d+", first.split("rows", 1)[1])]
        assert rows == listed and sum(rows) == total
    if "3136 -> dense 10" in first:
        assert network.layer_rows(got)[-2].output_shape == (3136,)
    if "2048 -> 625" in first:
        assert network.layer_rows(got)[-4].output_shape == (2048,)


def _keras_model_of_snippet(name):
    """Run the trusted snippet (ours, in tests/data) with Keras: the oracle for its numbers."""
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    namespace = {"tf": tf, "keras": keras, "layers": layers}
    # Keras 2 (the notes') took padding='SAME' on every layer; Keras 3's pooling wants 'same'.
    text = (SNIPPETS / name).read_text().replace("'SAME'", "'same'")
    exec(compile(text, name, "exec"), namespace)  # noqa: S102
    if "create_model" in namespace:
        return namespace["create_model"]()
    model = namespace["model"]
    return model


@pytest.mark.parametrize("name", ["keras_sequential_mnist.py", "keras_list_dense.py"])
def test_keras_snippet_rows_equal_keras_own_model(name):
    model = _keras_model_of_snippet(name)
    rows = network.layer_rows(network_from_code((SNIPPETS / name).read_text()))
    assert [row.params for row in rows] == [layer.count_params() for layer in model.layers]
    assert sum(row.params for row in rows) == model.count_params()
    for row, layer in zip(rows, model.layers):
        keras_shape = tuple(layer.output.shape[1:])
        # A flat input (n,) is read as 1×1×n: the same numbers behind two 1s.
        assert row.output_shape[-len(keras_shape):] == keras_shape
        assert set(row.output_shape[:-len(keras_shape)]) <= {1}


def _run_tf1(text: str, name: str) -> tuple[tuple, list[tuple]]:
    """Run trusted TensorFlow 1 code in a graph (tf.compat.v1; contrib's initializer replaced):
    (the logits' shape without the batch axis, the shapes of its variables)."""
    import types

    import tensorflow as tf

    v1 = tf.compat.v1
    shim = types.SimpleNamespace(**{k: getattr(v1, k) for k in dir(v1) if not k.startswith("_")})
    shim.contrib = types.SimpleNamespace(layers=types.SimpleNamespace(
        xavier_initializer=v1.glorot_uniform_initializer))
    # Graph mode for this graph only (tf1_code's disable_v2_behavior would switch this
    # whole test process out of eager execution).
    text = text.replace("tf.disable_v2_behavior()", "")
    with tf.Graph().as_default():
        namespace = {"tf": shim}
        exec(compile(text, name, "exec"), namespace)  # noqa: S102 (ours, in tests)
        return (tuple(namespace["logits"].shape[1:]),
                [tuple(v.shape) for v in v1.global_variables()])


@pytest.mark.parametrize("name", ["tf1_simple_cnn.py", "tf1_deep_cnn.py"])
def test_tf1_snippets_give_the_shapes_tensorflow_gives(name):
    """Each weight of the snippet, run by TensorFlow, has the shape our spec's layer needs."""
    logits, variables = _run_tf1((SNIPPETS / name).read_text(), name)
    got = network_from_code((SNIPPETS / name).read_text())
    rows = network.layer_rows(got)
    assert logits == rows[-1].output_shape
    shape = tuple(got["input_shape"])
    ours = []
    for layer, row in zip(got["layers"], rows):
        if layer["type"] == "Conv2D":
            ours.append((layer["kernel_size"], layer["kernel_size"], shape[-1], layer["filters"]))
        elif layer["type"] == "Dense":
            ours += [(shape[-1], layer["units"]), (layer["units"],)]
        shape = row.output_shape
    assert variables == ours


@pytest.mark.parametrize("name", ["Course CNN (2 conv)", "Course deep CNN (3 conv)",
                                  "32×32×3 image, six 5×5 filters"])
def test_tf1_code_runs_in_tensorflow_with_the_specs_parameters(name):
    preset = _plain(network.preset(name))
    logits, variables = _run_tf1(tf1_code(preset), name)
    assert logits == network.output_shape(preset)
    assert sum(math.prod(shape) for shape in variables) == network.total_params(preset)


# -- what a learner types ------------------------------------------------------------------
COURSE_CNN = spec((28, 28, 1), conv(32), pool(2, None, "valid"), FLAT, dense(10, "softmax"))
VARIATIONS = {
    "from-keras-layers": """
from keras.layers import Conv2D, pooling, Flatten, Dense
from keras.models import Sequential
model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', padding='same', input_shape=[28, 28, 1]))
model.add(pooling.MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=12)
model.summary()
""",
    "tensorflow-keras-layers": """
import tensorflow as tf
from tensorflow.keras import layers
model = tf.keras.models.Sequential([
    layers.Conv2D(filters=32, kernel_size=[3, 3], padding='SAME', activation=tf.nn.relu,
                  input_shape=(28, 28, 1)),
    layers.MaxPool2D(),
    layers.Flatten(),
    layers.Dense(units=10, activation=tf.nn.softmax)])
""",
    "keras-input-first": """
import keras
model = keras.Sequential()
model.add(keras.Input(shape=(28, 28, 1)))
model.add(keras.layers.Conv2D(32, 3, padding='same', activation=keras.activations.relu))
model.add(keras.layers.MaxPooling2D(2))
model.add(keras.layers.Flatten())
model.add(keras.layers.Dense(10))
model.add(keras.layers.Activation('softmax'))
""",
    "tf-layers": """
X = tf.placeholder(tf.float32, [None, 784])
X_img = tf.reshape(X, [-1, 28, 28, 1])
conv1 = tf.layers.conv2d(X_img, 32, [3, 3], padding='same', activation=tf.nn.relu)
pool1 = tf.layers.max_pooling2d(conv1, [2, 2], [2, 2], padding='valid')
flat = tf.layers.flatten(pool1)
logits = tf.layers.dense(flat, 10, activation=tf.nn.softmax)
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
""",
    "functional": """
from tensorflow import keras
inputs = keras.Input(shape=(28, 28, 1))
x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
x = keras.layers.MaxPooling2D()(x)
x = keras.layers.Flatten()(x)
outputs = keras.layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
""",
    "keras2-reshape-first": """
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import *
model = Sequential()
model.add(Reshape((28, 28, 1), input_shape=(784,)))
model.add(Conv2D(32, kernel_size=(3, 3), strides=(1, 1), padding="same", activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2), strides=None))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
""",
    "tf1-with-get-variable-and-softmax": """
import tensorflow as tf
X = tf.placeholder(tf.float32, shape=[None, 28, 28, 1])
W1 = tf.get_variable("W1", shape=[3, 3, 1, 32], initializer=tf.contrib.layers.xavier_initializer())
b1 = tf.Variable(tf.zeros([32]))
L1 = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(X, W1, [1, 1, 1, 1], 'SAME'), b1))
L1 = tf.nn.max_pool(L1, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID')
L1 = tf.reshape(L1, [-1, 14 * 14 * 32])
W2 = tf.Variable(tf.random.normal([6272, 10]))
hypothesis = tf.nn.softmax(tf.add(tf.matmul(L1, W2), tf.Variable(tf.random_normal([10]))))
correct = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
""",
}


@pytest.mark.parametrize("name", VARIATIONS)
def test_a_learners_variation_parses_to_the_same_network(name):
    assert network_from_code(VARIATIONS[name]) == COURSE_CNN


def test_a_relu_layer_stays_a_row_as_in_model_summary():
    text = """
model = keras.Sequential([keras.layers.InputLayer(input_shape=(8, 8, 1)),
    keras.layers.Conv2D(4, 3), keras.layers.Activation('relu'), keras.layers.ReLU(),
    keras.layers.Flatten(), keras.layers.Dense(10), keras.layers.Activation('softmax')])
"""
    assert network_from_code(text) == spec((8, 8, 1), conv(4, 3, "valid", None),
                                           {"type": "ReLU"}, {"type": "ReLU"}, FLAT,
                                           dense(10, "softmax"))


def test_keras2_input_dim_is_a_flat_input():
    text = "model = Sequential([Dense(512, activation='relu', input_dim=784), Dense(10)])"
    assert network_from_code(text) == spec((1, 1, 784), dense(512, "relu"), dense(10))


def test_keep_prob_rate_comes_from_the_training_feed_dict():
    text = (SNIPPETS / "tf1_deep_cnn.py").read_text() + (
        "\nfor epoch in range(15):\n"
        "    sess.run(optimizer, feed_dict={X: batch_xs, Y: batch_ys, keep_prob: 0.7})\n"
        "print(sess.run(accuracy, feed_dict={X: test_x, Y: test_y, keep_prob: 1}))\n")
    rates = [layer["rate"] for layer in network_from_code(text)["layers"]
             if layer["type"] == "Dropout"]
    assert rates == [0.3] * 4


def test_options_and_explicit_padding_are_read():
    text = """
model = keras.Sequential([
    keras.Input(shape=(24, 24, 1)),
    layers.ZeroPadding2D(padding=2),
    layers.Conv2D(8, 5, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                  kernel_regularizer=keras.regularizers.l2(0.001), activation='relu'),
    layers.AveragePooling2D(pool_size=3, strides=(3, 2)),
    layers.BatchNormalization(),
    layers.Flatten(),
    layers.Dense(10, bias_initializer='ones')])
"""
    assert network_from_code(text) == spec(
        (24, 24, 1),
        {**conv(8, 5, 2), "kernel_initializer": {"class": "RandomNormal", "stddev": 0.01},
         "kernel_regularizer": {"l2": 0.001}},
        pool(3, [3, 2], "valid", "AveragePool2D"), {"type": "BatchNorm"}, FLAT,
        {**dense(10), "bias_initializer": "ones"})


# -- refusals ------------------------------------------------------------------------------
REFUSED = [
    ("X = tf.placeholder(tf.float32, [None, 28, 28, 1])\n"
     "W1 = tf.Variable(tf.random_normal([3, 3, 1, 32]))\n"
     "L1 = tf.nn.conv2d(X, W1, strides=[1, 1, 1, 1], padding='SAME')\n"
     "L1 = tf.nn.lrn(L1, 4)\n"
     "W2 = tf.Variable(tf.random_normal([3, 3, 32, 64]))\n"
     "L2 = tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding='SAME')\n",
     "line 4: tf.nn.lrn is not a layer the playground knows"),
    ("model = keras.Sequential()\nmodel.add(keras.layers.LSTM(32, input_shape=(10, 8)))",
     "line 2: keras.layers.LSTM is not a layer the playground knows"),
    ("model = keras.Sequential()\nmodel.add(keras.layers.Dense(32))", "line 2: the first layer"),
    ("X = tf.placeholder(tf.float32, [None, 784])\nX_img = tf.reshape(X, [-1, 28, 28, 1])\n"
     "W1 = tf.Variable(tf.random_normal([3, 3, 3, 32]))\n"
     "L1 = tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding='SAME')",
     "line 4: tf.nn.conv2d: the filter is for 3 input channels, its input has 1"),
    ("X = tf.placeholder(tf.float32, [None, 28, 28, 1])\n"
     "W = tf.Variable(tf.random_normal([784, 10]))\nL = tf.matmul(X, W)",
     "line 3: tf.matmul: its input is 28×28×1; flatten it first"),
    ("model = keras.Sequential([layers.Conv2D(8, 5, input_shape=(3, 3, 1))])",
     "line 1: kernel_size[0]: kernel 5 is larger than the padded input 3"),
    ("model = keras.Sequential([layers.Dense(10, use_bias=False, input_shape=(4,))])",
     "line 1: layers.Dense(use_bias=False)"),
    ("model = keras.Sequential(\n    layers.Dense(", "line 2: Python cannot read this line"),
    ("print('hello')", "no network found"),
    ("import os\nmodel = keras.Sequential()", "line 1: only tensorflow and keras"),
    ("from subprocess import run", "line 1: only tensorflow and keras"),
    ("from . import secrets", "line 1: only tensorflow and keras"),
    ("\n\nexec('1')", "line 3: exec is not allowed"),
    ("x = eval", "line 1: eval is not allowed"),
    ("x = __import__('os')", "line 1: __import__ is not allowed"),
    ("x = ().__class__.__bases__", "line 1: __bases__ is not allowed"),
    ("x = (1).__class__", "line 1: __class__ is not allowed"),
    ("model = keras.Sequential([layers.Dense(10 ** 30, input_shape=(3,))])",
     "line 1: a number too large"),
    ("model = keras.Sequential([layers.Dense(12345678901, input_shape=(3,))])",
     "line 1: a number too large"),
    ("model = keras.Sequential([layers.Dense(1000000, input_shape=(3,))])",
     "line 1: units 1000000 is larger than the playground's limit of 100,000"),
    ("model = keras.Sequential([layers.Dense(1e308 * 10, input_shape=(3,))])",
     "line 1: a number too large"),
    ("x = " + "9" * 5000, "line 1: Python cannot read this line"),
    ("x = " + "[" * 80 + "]" * 80, "nested too deeply"),
    ("x = " + "-" * 5000 + "1", "nested too deeply"),
    ("x = " + "a+" * 3000 + "1", "nested too deeply"),
    ("x = '" + "a" * 1_000_000 + "'", "the code has 1,000,006 characters"),
    ("\n" * 5000, "more than 1,000 lines"),
]


@pytest.mark.parametrize("text, message", REFUSED, ids=lambda v: v[:30] if len(v) > 30 else v)
def test_refused_code_gets_a_one_line_message_naming_the_line(text, message):
    with pytest.raises(ValueError) as caught:
        network_from_code(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


PAYLOADS = [
    "open({path!r}, 'w').write('pwned')",
    "__import__('os').system('touch {path}')",
    "import os\nos.system('touch {path}')",
    "import pathlib\npathlib.Path({path!r}).write_text('pwned')",
    "exec(\"open({path!r}, 'w')\")",
    "getattr(__builtins__, 'open')({path!r}, 'w')",
    # Parses (the network is read; the loop and the undefined name are not followed)
    "model = keras.Sequential([layers.Dense(10, input_shape=(4,))])\n"
    "for _ in range(1):\n    Path({path!r}).write_text('pwned')",
    "model = keras.Sequential([layers.Dense(10, input_shape=(4,),\n"
    "    activation=Path({path!r}).write_text('pwned'))])",
    "model = keras.Sequential([layers.Lambda(lambda x: open({path!r}, 'w'))])",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_that_would_write_a_file_never_runs(payload, tmp_path):
    target = tmp_path / "pwned"
    text = payload.format(path=str(target))
    try:
        network_from_code(text)
    except ValueError:
        pass
    assert not target.exists()


def test_the_parser_never_runs_even_valid_code(tmp_path):
    """The control: the same payload run by Python does write the file."""
    target = tmp_path / "pwned"
    text = f"model = None\nopen({str(target)!r}, 'w').write('pwned')"
    exec(compile(text, "payload", "exec"), {})  # noqa: S102 (the control)
    assert target.exists()
    target.unlink()
    with pytest.raises(ValueError):
        network_from_code(text)
    assert not target.exists()


def test_size_limit_is_exact():
    text = "# " + "x" * (MAX_CHARS - 3) + "\n" + (SNIPPETS / "tf1_simple_cnn.py").read_text()
    with pytest.raises(ValueError, match="characters"):
        network_from_code(text)
    assert network_from_code((SNIPPETS / "tf1_simple_cnn.py").read_text())


# -- export and round trips ----------------------------------------------------------------
def _plain(spec_: dict) -> dict:
    return {k: v for k, v in network.validate(spec_).items() if k != "description"}


def _keras_form(spec_: dict) -> dict:
    """What Keras code can say of a spec: explicit padding 0 is Keras' 'valid'."""
    layers = [{**layer, "padding": "valid"} if layer.get("padding") == 0 else layer
              for layer in network.validate(spec_)["layers"]]
    return network.validate({"input_shape": spec_["input_shape"], "layers": layers})


def _tf1_form(spec_: dict) -> dict:
    """What TensorFlow 1 code can say of a spec: Keras' (above); a pooling's strides equal to
    its window are the same call as none; a ReLU after a Conv2D or Dense without activation is
    its activation (``tf.nn.relu(L)`` either way), as after any layer without one."""
    layers = []
    for layer in _keras_form(spec_)["layers"]:
        layer = dict(layer)
        if layer["type"] in ("MaxPool2D", "AveragePool2D") and \
                layer["strides"] == layer["pool_size"]:
            layer["strides"] = None
        if layer["type"] == "ReLU" and layers and "activation" in layers[-1] \
                and layers[-1]["activation"] is None:
            layers[-1]["activation"] = "relu"
            continue
        layers.append(layer)
    return network.validate({"input_shape": spec_["input_shape"], "layers": layers})


@pytest.mark.parametrize("name", network.PRESETS)
def test_presets_round_trip_through_keras_and_tf1_code(name):
    preset = _plain(network.preset(name))
    assert network_from_code(network.keras_code(preset)) == preset
    assert network_from_code(tf1_code(preset)) == _tf1_form(preset)


ACTS = st.sampled_from([None, "relu", "softmax", "sigmoid", "tanh"])
SIZES = st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2))
CONV = st.builds(
    lambda f, k, s, p, a, opts: {"type": "Conv2D", "filters": f, "kernel_size": k, "strides": s,
                                 "padding": p, "activation": a, **opts},
    st.integers(1, 8), SIZES, st.integers(1, 2),
    st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2)), ACTS,
    st.fixed_dictionaries({}, optional={
        "kernel_initializer": st.sampled_from(["he_normal", {"class": "RandomNormal",
                                                             "stddev": 0.02}]),
        "bias_regularizer": st.sampled_from([{"l2": 0.001}, {"l1": 0.5, "l2": 0.25}])}))
POOL = st.builds(lambda kind, size, s, p: {"type": kind, "pool_size": size, "strides": s,
                                           "padding": p},
                 st.sampled_from(["MaxPool2D", "AveragePool2D"]), SIZES,
                 st.one_of(st.none(), SIZES), st.sampled_from(["same", "valid"]))
MODERN = st.one_of(
    st.builds(lambda f, k, s, p, a: {"type": "Conv2DTranspose", "filters": f, "kernel_size": k,
                                     "strides": s, "padding": p, "activation": a},
              st.integers(1, 4), SIZES, st.integers(1, 2), st.sampled_from(["same", "valid"]),
              ACTS),
    st.builds(lambda k, s, p, m, a: {"type": "DepthwiseConv2D", "kernel_size": k, "strides": s,
                                     "padding": p, "depth_multiplier": m, "activation": a},
              SIZES, st.integers(1, 2), st.sampled_from(["same", "valid"]), st.integers(1, 2),
              ACTS),
    st.builds(lambda f, k, s, p, m, a: {"type": "SeparableConv2D", "filters": f,
                                        "kernel_size": k, "strides": s, "padding": p,
                                        "depth_multiplier": m, "activation": a},
              st.integers(1, 4), SIZES, st.integers(1, 2), st.sampled_from(["same", "valid"]),
              st.integers(1, 2), ACTS),
    st.just({"type": "GlobalAveragePooling2D"}))
SIMPLE = st.sampled_from([{"type": "ReLU"}, {"type": "BatchNorm"}, {"type": "Dropout",
                                                                    "rate": 0.25}])
RATE = st.builds(lambda r: {"type": "Dropout", "rate": r},
                 st.floats(0.0, 0.95, allow_nan=False))
HEAD = st.lists(st.builds(lambda u, a: {"type": "Dense", "units": u, "activation": a},
                          st.integers(1, 64), ACTS), max_size=2)


@st.composite
def specs(draw):
    body = draw(st.lists(st.one_of(CONV, POOL, SIMPLE, RATE, MODERN), min_size=1, max_size=5))
    head = draw(HEAD)
    layers = body + ([{"type": "Flatten"}] + head if head or draw(st.booleans()) else [])
    shape = [draw(st.integers(6, 16)), draw(st.integers(6, 16)), draw(st.integers(1, 3))]
    try:
        return network.validate({"input_shape": shape, "layers": layers})
    except ValueError:
        return None


ROUND_TRIP = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(specs())
def test_keras_code_round_trips(spec_):
    if spec_ is not None:
        assert network_from_code(network.keras_code(spec_)) == _keras_form(spec_)


@ROUND_TRIP
@given(specs())
def test_tf1_code_round_trips(spec_):
    if spec_ is not None:
        assert network_from_code(tf1_code(spec_)) == _tf1_form(spec_)


# -- fuzzing -------------------------------------------------------------------------------
SNIPPET_TEXTS = [p.read_text() for p in SNIPPET_FILES]
TOKENS = ["(", ")", "[", "]", ",", "=", "\n", "    ", "tf.", "keras.layers.", "-1", "0",
          "1e9", "None", "'SAME'", "model.add(", "tf.nn.conv2d(", "__", "**", "lambda x: x",
          "import os\n", "Conv2D(", "*", "1.5", "True", "\\", "'", '"', "#"]


def _parse_in_time(text: str):
    start = time.perf_counter()
    try:
        result = network_from_code(text)
    except ValueError as err:
        assert "\n" not in str(err)
        result = None
    # Generous: the machine is shared; a runaway parse takes far longer.
    assert time.perf_counter() - start < 2.0
    if result is not None:
        assert network.validate(result) == result


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text_gives_a_spec_or_a_value_error(text):
    _parse_in_time(text)


@FUZZ
@given(st.sampled_from(SNIPPET_TEXTS), st.lists(
    st.tuples(st.integers(0, 4000), st.integers(0, 40),
              st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))), max_size=6))
def test_fuzz_mutated_snippets_give_a_spec_or_a_value_error(text, edits):
    for where, length, insert in edits:
        where %= len(text) + 1
        text = text[:where] + insert + text[where + length:]
    _parse_in_time(text)


def test_fuzz_numbers_in_snippets():
    """Every number of every snippet replaced by an extreme value, one at a time."""
    rng = random.Random(0)
    extremes = ["0", "-1", "10**9", "10**10", "1e308", "2**64", "99999", "0.0", "-0.5"]
    for text in SNIPPET_TEXTS:
        numbers = list(re.finditer(r"\d+", text))
        for match in rng.sample(numbers, min(15, len(numbers))):
            for value in extremes:
                _parse_in_time(text[:match.start()] + value + text[match.end():])


# -- the Shape Lab's "Paste your code" (AppTest) ----------------------------------------------
def _total(at) -> str:
    (metric,) = [m for m in at.metric if m.label.startswith("Total parameters")]
    return metric.value


def _paste(at, text: str):
    at.text_area(key="sl_code").set_value(text)
    at.button(key="sl_read_code").click().run()
    assert not at.exception
    return at


def test_shape_lab_reads_pasted_keras_code_into_the_table_and_the_training_link():
    from urllib.parse import parse_qs, urlparse

    from tests.helpers import app_test

    at = app_test("shape_lab")
    assert _total(at) == "50,186"
    _paste(at, (SNIPPETS / "keras_sequential_mnist.py").read_text())
    assert not at.error
    assert _total(at) == "619,786"
    assert "net" in at.query_params
    (train,) = [b for b in at.get("link_button") if "Train this network" in b.proto.label]
    sent = network.from_json(parse_qs(urlparse(train.proto.url).query)["spec"][0])
    # The notes' last Dense gives logits; the table gives it softmax (and says so) to train it.
    expected = EXPECTED["keras_sequential_mnist.py"]
    assert sent == {**expected, "layers": expected["layers"][:-1] + [dense(10, "softmax")]}
    assert any("gives logits" in c.value for c in at.caption)


def test_shape_lab_refuses_pasted_code_with_one_line_and_keeps_its_table(tmp_path):
    from tests.helpers import app_test

    target = tmp_path / "pwned"
    at = app_test("shape_lab")
    _paste(at, f"import os\nos.system('touch {target}')")
    (error,) = at.error
    assert error.value == "line 1: only tensorflow and keras may be imported, not os"
    assert _total(at) == "50,186" and not target.exists()
    _paste(at, "")
    assert at.error[0].value.startswith("Paste a Keras Sequential model")


def test_shape_lab_shows_the_tables_tensorflow_1_code_that_reads_back():
    from tests.helpers import app_test

    at = app_test("shape_lab")
    at.session_state["sl_tf1_code"] = True
    at.run()
    (block,) = [c for c in at.get("code") if "tf.nn.conv2d" in c.value]
    assert network_from_code(block.value) == network.validate(
        {"input_shape": [28, 28, 1], "layers": EXPECTED["tf1_simple_cnn.py"]["layers"][:-1]
         + [dense(10, "softmax")]})


ARG_VALUES = st.one_of(
    st.integers(-3, 70).map(str),
    st.sampled_from(["0", "10**9", "2**40", "1e400", "-1e-9", "0.5"]),
    st.sampled_from(["'same'", "'VALID'", "'relu'", "'softmax'", "'bogus'", "None", "True",
                     "tf.nn.relu", "tf.nn.elu", "'he_normal'", "keep_prob", "X", "W1",
                     "keras.initializers.RandomNormal(stddev=0.01)", "keras.regularizers.l2(-1)",
                     "lambda x: x", "[None, 784]", "[-1, 28, 28, 1]", "[1, 2, 2, 1]"]),
    st.lists(st.integers(-1, 5), max_size=5).map(str),
    st.tuples(st.integers(-1, 5), st.integers(-1, 5)).map(str),
    st.lists(st.lists(st.integers(0, 3), max_size=2), max_size=2).map(str))
CALLS = st.sampled_from(
    ["keras.layers." + name for name in ("Conv2D", "MaxPool2D", "AveragePooling2D", "Dense",
                                         "Dropout", "Flatten", "ReLU", "Activation", "Input",
                                         "InputLayer", "BatchNormalization", "ZeroPadding2D",
                                         "Reshape", "Conv2DTranspose", "DepthwiseConv2D",
                                         "SeparableConv2D", "GlobalAveragePooling2D")]
    + ["tf.nn.conv2d", "tf.nn.max_pool", "tf.nn.avg_pool", "tf.nn.dropout", "tf.nn.relu",
       "tf.nn.softmax", "tf.matmul", "tf.reshape", "tf.placeholder", "tf.Variable",
       "tf.random_normal", "tf.get_variable", "tf.layers.conv2d", "tf.layers.dense",
       "tf.layers.max_pooling2d", "tf.add", "model.add"])
KEYWORDS = st.sampled_from(["filters", "kernel_size", "strides", "padding", "activation",
                            "units", "rate", "pool_size", "input_shape", "shape", "ksize",
                            "keep_prob", "dilation_rate", "depth_multiplier", "target_shape",
                            "kernel_initializer", "bias_regularizer", "use_bias", "name"])


@st.composite
def calls(draw):
    args = draw(st.lists(ARG_VALUES, max_size=4))
    kwargs = draw(st.dictionaries(KEYWORDS, ARG_VALUES, max_size=3))
    text = ", ".join([*args, *(f"{k}={v}" for k, v in kwargs.items())])
    call = f"{draw(CALLS)}({text})"
    return draw(st.sampled_from([call, f"{call}(X)", f"model.add({call})"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["X", "W1", "L1", "model", "keep_prob"]), calls()),
                min_size=1, max_size=8))
def test_fuzz_layer_calls_with_odd_arguments_give_a_spec_or_a_value_error(lines):
    text = "model = keras.Sequential()\n" + "\n".join(f"{name} = {call}"
                                                     for name, call in lines)
    _parse_in_time(text)
