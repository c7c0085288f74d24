"""playground.course: every lesson's numbers against TensorFlow / Keras (tests/reference.py and
models the notes' way), each task's check with a passing and a failing case, the progress in
the address, and the labs' links read back by the labs themselves."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from playground.core import filters
from playground.course import LESSONS, basics, networks
from playground.course import model as course
from playground.filter_lab import settings as filter_settings
from playground.shape_lab import settings as shape_settings
from playground.training import settings as training_settings
from tests import reference

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

BY_KEY = {lesson.key: lesson for lesson in LESSONS}


def shown(lesson_key: str, **values) -> list[course.Shown]:
    lesson = BY_KEY[lesson_key]
    outcome = lesson.outcome(dict(lesson.defaults(), **values))
    assert outcome.error is None, outcome.error
    return outcome.shown


def items(lesson_key: str, kind: str, **values) -> list:
    return [item for item in shown(lesson_key, **values) if item.kind == kind]


def metric(lesson_key: str, title: str, **values) -> str:
    return next(item.value for item in items(lesson_key, "metric", **values)
                if item.title == title)


def shape_text(shape) -> str:
    return " × ".join(str(n) for n in shape)


# --- the numbers, against TensorFlow -----------------------------------------------------------

def test_course_has_the_fifteen_topics_in_the_notes_order():
    assert [lesson.key for lesson in LESSONS] == [
        "why", "output_size", "depth", "toy", "same", "three_filters", "pooling", "detectors",
        "mnist_digit", "simple_cnn", "deep_cnn", "keras_cnn", "keras_fit", "beyond_digits",
        "look_inside"]


@pytest.mark.parametrize("bias", [-10, -6, 0, 3])
def test_one_filter_one_number_is_relu_of_conv_plus_bias(bias):
    expected = tf.nn.relu(reference.conv(basics.TOY, basics.NEURON_KERNEL, 1, "valid") + bias)
    assert float(metric("why", "One filter, one area → one number", bias=bias)) == \
        float(np.asarray(expected)[0, 0])


@pytest.mark.parametrize("n,f,stride,pad", [(7, 3, 1, 0), (7, 3, 2, 0), (7, 3, 1, 1),
                                            (7, 3, 3, 0), (10, 4, 2, 2), (5, 5, 1, 0)])
def test_output_size_is_tensorflows(n, f, stride, pad):
    out = reference.conv(np.zeros((n, n), np.float32), np.ones((f, f), np.float32), stride, pad)
    assert metric("output_size", "Output size", n=n, f=f, stride=stride, pad=pad) == \
        shape_text(out.shape)


def test_output_size_the_notes_cases():
    for stride, pad, side in ((1, 0, 5), (2, 0, 3), (1, 1, 7)):
        assert metric("output_size", "Output size", stride=stride, pad=pad) == f"{side} × {side}"


@pytest.mark.parametrize("filters_count,size", [(6, 5), (1, 5), (4, 3)])
def test_depth_maps_and_weights_are_keras(filters_count, size):
    layer = keras.layers.Conv2D(filters_count, size)
    out = layer(np.zeros((1, 32, 32, 3), np.float32))
    kernel, bias = layer.get_weights()
    assert metric("depth", "Activation maps", filters=filters_count, f=size) == \
        shape_text(out.shape[1:])
    assert metric("depth", "Weights", filters=filters_count, f=size) == f"{kernel.size:,}"
    assert f"{layer.count_params():,} parameters" in items("depth", "markdown",
                                                            filters=filters_count, f=size)[0].value


def test_depth_the_notes_numbers():
    assert metric("depth", "Activation maps", filters=6) == "28 × 28 × 6"
    assert metric("depth", "Weights", filters=6) == "450"


def test_toy_valid_is_tf_conv2d():
    image = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    expected = tf.nn.conv2d(image, tf.ones([2, 2, 1, 1]), strides=[1, 1, 1, 1],
                            padding="VALID").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(expected, [[12, 16], [24, 28]])
    output = items("toy", "matrix")[2].value
    np.testing.assert_array_equal(output, expected)
    text = " ".join(item.value for item in items("toy", "markdown"))
    assert "w1 + 2·w2 + 4·w3 + 5·w4" in text and "5·w1 + 6·w2 + 8·w3 + 9·w4" in text
    assert "= 12" in text


@pytest.mark.parametrize("weights", [(1, 2, 3, 4), (0, 0, 0, 1), (-1, 0.5, 2, -3)])
def test_toy_any_weights_is_tf_conv2d(weights):
    values = dict(zip(("w1", "w2", "w3", "w4"), weights))
    expected = reference.conv(basics.TOY, np.reshape(weights, (2, 2)), 1, "valid")
    np.testing.assert_allclose(items("toy", "matrix", **values)[2].value, expected)


def test_same_is_tf_conv2d_with_the_zeros_bottom_right():
    matrices = items("same", "matrix", padding="same")
    expected = reference.conv(basics.TOY, basics.ONES, 1, "same")
    np.testing.assert_array_equal(expected, [[12, 16, 9], [24, 28, 15], [15, 17, 9]])
    np.testing.assert_array_equal(matrices[1].value, expected)
    padded, is_pad = matrices[0].value, matrices[0].extra["is_pad"]
    assert padded.shape == (4, 4) and is_pad[3].all() and is_pad[:, 3].all()
    assert not is_pad[:3, :3].any()
    assert metric("same", "Output shape", padding="same") == "(1, 3, 3, 1)"
    assert "= 9" in items("same", "markdown", padding="same")[0].value


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_same_lesson_any_setting_is_tensorflows(padding, stride):
    expected = reference.conv(basics.TOY, basics.ONES, stride, padding)
    np.testing.assert_array_equal(items("same", "matrix", padding=padding,
                                        stride=stride)[1].value, expected)


def test_three_filters_are_one_conv_with_three_output_channels():
    weight = np.ones((2, 2, 1, 3), np.float32) * np.array([1, 10, -1], np.float32)
    image = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    conv = tf.nn.conv2d(image, weight, strides=[1, 1, 1, 1], padding="SAME").numpy()
    split = np.swapaxes(conv, 0, 3)
    assert conv.shape == (1, 3, 3, 3) and split.shape == (3, 3, 3, 1)
    maps = items("three_filters", "matrix")
    for i in range(3):
        np.testing.assert_array_equal(maps[i].value, split[i].reshape(3, 3))
    assert "(3, 3, 3, 1)" in items("three_filters", "markdown")[0].value


@pytest.mark.parametrize("example,size,stride,padding,expected", [
    ("4x4", 2, 2, "valid", [[6, 8], [14, 16]]),
    ("slide", 2, 2, "valid", [[6, 8], [3, 4]]),
    ("2x2", 2, 1, "valid", [[4]]),
    ("2x2", 2, 1, "same", [[4, 3], [2, 1]]),
    ("6x6", 5, 4, "same", [[22, 24], [34, 36]]),
    ("6x6", 5, 4, "valid", [[29]]),
])
def test_max_pooling_examples_are_tf_max_pool2d(example, size, stride, padding, expected):
    x = np.array(basics.POOL_INPUTS[example], np.float32)
    tf_out = reference.pool(x, (size, size), (stride, stride), padding, "max")
    np.testing.assert_array_equal(tf_out, expected)
    out = items("pooling", "matrix", example=example, size=size, stride=stride,
                padding=padding)[1].value
    np.testing.assert_array_equal(out, tf_out)


def test_average_pooling_is_tf_avg_pool2d():
    x = np.array(basics.POOL_INPUTS["6x6"], np.float32)
    out = items("pooling", "matrix", example="6x6", mode="avg", size=5, stride=4,
                padding="same")[1].value
    np.testing.assert_allclose(out, reference.pool(x, (5, 5), (4, 4), "same", "avg"))


@pytest.mark.parametrize("field,expected", [("curve", 6600), ("other", 0)])
def test_curve_detector_is_tf_conv2d(field, expected):
    kernel = filters.KERNELS[basics.DETECTORS[2]]
    tf_out = reference.conv(basics.FIELDS[field], kernel, 1, "valid")
    assert tf_out.shape == (1, 1) and tf_out[0, 0] == expected
    matrices = items("detectors", "matrix", field=field)
    assert matrices[2].value[0, 0] == expected
    assert items("detectors", "markdown", field=field)[0].value.endswith(f" {expected}")


@pytest.mark.parametrize("name", basics.DETECTORS[:2])
def test_edge_filters_are_tf_conv2d(name):
    kernel = filters.KERNELS[name]
    np.testing.assert_allclose(kernel * 23, np.abs(kernel * 23).round() * np.sign(kernel))
    out = items("detectors", "matrix", filter=name, field="curve")[2].value
    np.testing.assert_allclose(out, reference.conv(basics.FIELDS["curve"], kernel, 1, "valid"),
                               rtol=1e-5, atol=1e-4)


def test_mnist_digit_five_filters_stride_two_same_is_tf():
    from playground.datasets import mnist
    try:
        (x_train, y_train), _test = mnist.load_mnist()
    except Exception as error:   # no MNIST on this machine: the lesson says so
        outcome = BY_KEY["mnist_digit"].outcome({})
        assert outcome.error and "MNIST" in outcome.error
        pytest.skip(f"MNIST unavailable: {error}")
    values = dict(count=5, stride=2, padding="same", seed=3)
    picture, maps, after = shown("mnist_digit", **values)
    assert int(y_train[0]) == 5 and "5" in picture.title
    img = (x_train[0] / np.float32(255)).reshape(-1, 28, 28, 1).astype(np.float32)
    kernels = filters.random_kernels(5, 3, 1, 3)
    expected = tf.nn.conv2d(img, kernels, strides=[1, 2, 2, 1], padding="SAME").numpy()
    np.testing.assert_allclose(maps.value, expected[0], rtol=1e-5, atol=1e-6)
    assert after.value == str(np.swapaxes(expected, 0, 3).shape) == "(5, 14, 14, 1)"


def _notes_simple_cnn(f1=32, f2=64):
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(f1, 3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(2, padding="same"),
        keras.layers.Conv2D(f2, 3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")])


@pytest.mark.parametrize("f1,f2", [(32, 64), (8, 16)])
def test_simple_cnn_table_is_keras(f1, f2):
    model = _notes_simple_cnn(f1, f2)
    assert metric("simple_cnn", "Parameters", f1=f1, f2=f2) == f"{model.count_params():,}"
    assert metric("simple_cnn", "Flattened length", f1=f1, f2=f2) == \
        f"{model.layers[-2].output.shape[-1]:,}"
    rows = items("simple_cnn", "table", f1=f1, f2=f2)[0].value[1:]
    assert [r["params"] for r in rows] == [layer.count_params() for layer in model.layers]


def test_simple_cnn_the_notes_shapes():
    rows = items("simple_cnn", "table")[0].value
    assert [r["output shape"] for r in rows] == [
        "28 × 28 × 1", "28 × 28 × 32", "14 × 14 × 32", "14 × 14 × 64", "7 × 7 × 64", "3136",
        "10"]


def test_deep_cnn_is_keras_and_pools_seven_to_four():
    model = keras.Sequential([keras.Input((28, 28, 1))] + [
        layer for size in (32, 64, 128) for layer in (
            keras.layers.Conv2D(size, 3, padding="same", activation="relu"),
            keras.layers.MaxPool2D(2, padding="same"), keras.layers.Dropout(0.3))] + [
        keras.layers.Flatten(), keras.layers.Dense(625, activation="relu"),
        keras.layers.Dropout(0.3), keras.layers.Dense(10, activation="softmax")])
    assert model.layers[9].output.shape[-1] == 2048
    assert metric("deep_cnn", "Parameters", keep_prob=0.7) == f"{model.count_params():,}"
    assert metric("deep_cnn", "Keras Dropout rate", keep_prob=0.7) == "0.3"
    rates = [r["settings"] for r in items("deep_cnn", "table", keep_prob=0.7)[0].value
             if r["layer"] == "Dropout"]
    assert len(rates) == 4 and all("0.3" in rate for rate in rates)


def _notes_keras_model(units=256):
    """The notes' Keras Sequential CNN, written as they write it (but Keras 3's pooling takes
    only lower-case 'same': 'SAME' is refused there)."""
    model = keras.Sequential()
    model.add(keras.layers.Conv2D(filters=32, kernel_size=3, activation=tf.nn.relu,
                                  padding="SAME", input_shape=(28, 28, 1)))
    model.add(keras.layers.MaxPool2D(padding="same"))
    model.add(keras.layers.Conv2D(filters=64, kernel_size=3, activation=tf.nn.relu,
                                  padding="SAME"))
    model.add(keras.layers.MaxPool2D(padding="same"))
    model.add(keras.layers.Conv2D(filters=128, kernel_size=3, activation=tf.nn.relu,
                                  padding="SAME"))
    model.add(keras.layers.MaxPool2D(padding="same"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(units, activation=tf.nn.relu))
    model.add(keras.layers.Dropout(0.4))
    model.add(keras.layers.Dense(10))
    return model


@pytest.mark.parametrize("units", [256, 50])
def test_keras_sequential_cnn_parameters_are_count_params(units):
    model = _notes_keras_model(units)
    assert metric("keras_cnn", "Parameters", units=units) == f"{model.count_params():,}"
    rows = items("keras_cnn", "table", units=units)[0].value[1:]
    assert [r["params"] for r in rows] == [layer.count_params() for layer in model.layers]
    if units == 256:
        assert model.count_params() == 619_786
        assert [r["params"] for r in rows if r["params"]] == [320, 18_496, 73_856, 524_544,
                                                              2_570]


@pytest.mark.parametrize("batch_size", [100, 32, 7, 8192])
def test_steps_per_epoch_are_tf_datas(batch_size):
    steps = len(tf.data.Dataset.range(60_000).batch(batch_size))
    assert metric("keras_fit", "Steps per epoch", batch_size=batch_size) == f"{steps:,}"
    assert metric("keras_fit", "Steps in all", batch_size=batch_size, epochs=3) == \
        f"{3 * steps:,}"


def test_the_shown_keras_code_compiles_and_fits_as_set():
    code = items("keras_fit", "code", optimizer="RMSprop", learning_rate=0.01, epochs=2,
                 batch_size=100)[0].value
    compile(code, "<lesson>", "exec")   # valid Python
    assert "RMSprop(learning_rate=0.01)" in code and "epochs=2, batch_size=100" in code


@pytest.mark.parametrize("dataset,before", [("mnist", (7, 7, 64)), ("cifar10", (8, 8, 64)),
                                            ("fashion_mnist", (7, 7, 64))])
def test_beyond_digits_network_shapes_are_keras(dataset, before):
    from playground.datasets.registry import REGISTRY
    shape = REGISTRY[dataset].input_shape
    model = keras.Sequential([
        keras.Input(shape), keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(padding="same"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(padding="same"), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")])
    assert tuple(model.layers[3].output.shape[1:]) == before
    assert metric("beyond_digits", "Before Flatten", dataset=dataset) == shape_text(before)
    assert metric("beyond_digits", "Input", dataset=dataset) == shape_text(shape)
    assert metric("beyond_digits", "Parameters", dataset=dataset) == \
        f"{model.count_params():,}"


def test_convnetjs_layers_are_keras():
    model = keras.Sequential([
        keras.Input((24, 24, 1)), keras.layers.ZeroPadding2D(2),
        keras.layers.Conv2D(8, 5, activation="relu"), keras.layers.MaxPool2D(2, 2),
        keras.layers.ZeroPadding2D(2), keras.layers.Conv2D(16, 5, activation="relu"),
        keras.layers.MaxPool2D(3, 3)])
    keras_shapes = [tuple(model.layers[i].output.shape[1:]) for i in (1, 2, 4, 5)]
    for layer, expected in zip(networks.LOOK_LAYERS, keras_shapes):
        assert metric("look_inside", "Activations of this layer", layer=layer) == \
            shape_text(expected)


# --- the tasks' checks: one passing and one failing case each ----------------------------------

SOLUTIONS = {
    "why": (dict(bias=-6), dict(bias=-5)),
    "output_size": (dict(pad=1), dict(stride=2, pad=1)),
    "depth": (dict(filters=6), dict(filters=6, f=3)),
    "toy": (dict(w1=0, w2=0, w3=0, w4=1), dict(w1=0, w2=0, w3=1, w4=0)),
    "same": (dict(padding="same"), dict(padding="same", stride=2)),
    "three_filters": (dict(b=2), dict(a=2)),
    "pooling": (dict(example="6x6", size=5, stride=4, padding="same"),
                dict(example="6x6", size=5, stride=4, padding="valid")),
    "detectors": (dict(field="curve"), dict(field="curve", filter=basics.DETECTORS[0])),
    "mnist_digit": (dict(count=5, stride=2, padding="same"),
                    dict(count=5, stride=2, padding="valid")),
    "simple_cnn": (dict(f1=8, f2=16), dict(f1=8, f2=48)),
    "deep_cnn": (dict(keep_prob=0.7), dict(keep_prob=0.3)),
    "keras_cnn": (dict(units=50), dict(units=60)),
    "keras_fit": (dict(batch_size=100), dict(batch_size=99)),
    "beyond_digits": (dict(dataset="cifar10"), dict(dataset="fashion_mnist")),
    "look_inside": (dict(layer=networks.LOOK_LAYERS[2]), dict(layer=networks.LOOK_LAYERS[1])),
}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_task_passes_and_fails(lesson):
    passing, failing = SOLUTIONS[lesson.key]
    assert not lesson.done(lesson.defaults()), "the task must not start done"
    assert lesson.done(dict(lesson.defaults(), **passing))
    assert not lesson.done(dict(lesson.defaults(), **failing))


def test_solution_values_are_the_notes_numbers():
    """The passing cases really show the notes' results (not only pass the check)."""
    assert metric("output_size", "Output size", pad=1) == "7 × 7"
    assert metric("deep_cnn", "Keras Dropout rate", keep_prob=0.7) == "0.3"
    assert metric("keras_fit", "Steps per epoch", batch_size=100) == "600"
    assert metric("look_inside", "Activations of this layer",
                  layer=networks.LOOK_LAYERS[2]) == "12 × 12 × 16"
    assert int(metric("simple_cnn", "Parameters", f1=8, f2=16).replace(",", "")) < 20_000
    assert math.isclose(float(metric("why", "One filter, one area → one number", bias=-6)), 0)


def test_an_impossible_setting_is_a_message_not_a_traceback():
    lesson = BY_KEY["output_size"]
    outcome = lesson.outcome(dict(n=2, f=9, stride=1, pad=0))
    assert outcome.error and not lesson.done(dict(n=2, f=9, stride=1, pad=0))


# --- controls and progress ---------------------------------------------------------------------

@pytest.mark.parametrize("raw", [None, "x", float("nan"), "1e400", [1], 10**9, -10**9])
def test_controls_clean_hostile_values(raw):
    for lesson in LESSONS:
        values = lesson.values({c.name: raw for c in lesson.controls})
        for control in lesson.controls:
            value = values[control.name]
            if control.kind == "choice":
                assert value in control.choices
            else:
                assert control.low <= value <= control.high


@pytest.mark.parametrize("raw,expected", [
    ("2", 2), (" 15 ", 15), ("16", 1), ("0", 1), ("-3", 1), ("abc", 1), ("", 1), (None, 1),
    ("1" * 5000, 1), (["3", "4"], 4), ("2.5", 1), ("٣", 1), ("<script>", 1)])
def test_lesson_number_from_the_address(raw, expected):
    assert course.lesson_number(raw, 15) == expected


def test_done_lessons_from_the_address():
    assert course.done_lessons("1.2.5", 15) == {1, 2, 5}
    assert course.done_lessons("3,x,99,0,15", 15) == {3, 15}
    assert course.done_lessons("9" * 1000, 15) == frozenset()
    assert course.done_lessons(None, 15) == frozenset()
    assert course.done_text({5, 1, 2}) == "1.2.5"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_lab_links_are_read_back_by_the_labs_without_complaint(lesson):
    for values in (lesson.defaults(), dict(lesson.defaults(), **SOLUTIONS[lesson.key][0])):
        page, query = lesson.lab(lesson.values(values))
        assert page in course.PAGES and all(isinstance(v, str) for v in query.values())
        if page == "shape_lab":
            settings, messages = shape_settings.from_query(query)
            assert messages == []
            shape_settings.network_spec(settings)
        elif page == "filter_lab":
            link, messages = filter_settings.from_query(query, [query["filter"]]
                                                        if "filter" in query else [])
            assert messages == []
            assert query.get("tab", filter_settings.TABS[0]) in filter_settings.TABS
        elif page == "training":
            _settings, problems = training_settings.settings_from_query(
                query, training_settings.default_settings(query.get("preset",
                                                                    networks.SIMPLE)))
            assert problems == []
            if "spec" in query:   # the Training page's own check of a pasted network
                training_settings.check_spec(json.loads(query["spec"]), training_settings.MNIST)
            if "preset" in query:
                assert query["preset"] in training_settings.trainable_presets()


def test_output_size_link_opens_the_same_layer_in_the_shape_lab():
    page, query = BY_KEY["output_size"].lab(dict(n=7, f=3, stride=1, pad=1))
    settings, _messages = shape_settings.from_query(query)
    assert (settings["h"], settings["kh"], settings["padding"], settings["pad"]) == \
        (7, 3, "explicit", 1)


def test_looking_inside_is_the_shipped_models_own_answer():
    from playground.datasets import mnist
    from playground.inspector import pretrained
    if not pretrained.pretrained_available():
        assert "Training page" in items("look_inside", "markdown")[0].value
        pytest.skip("no pretrained model in this copy")
    (_train, (x_test, y_test)) = mnist.load_mnist()
    model = pretrained.pretrained_model()
    x = mnist.to_float(x_test[7:8])
    first = keras.Model(model.inputs, model.layers[0].output)(x).numpy()[0]
    probabilities = model.predict(x, verbose=0)[0]
    picture, maps, reading = shown("look_inside", digit=7)[:3]
    assert f"label {int(y_test[7])}" in picture.title
    np.testing.assert_allclose(maps.value, first[:, :, :8], rtol=1e-5, atol=1e-5)
    assert reading.value.startswith(f"{int(np.argmax(probabilities))} (")


def test_simple_cnn_lesson_names_the_shipped_models_accuracy():
    from playground.inspector import pretrained
    text = items("simple_cnn", "markdown")[-1].value
    if pretrained.pretrained_available():
        assert f"{pretrained.pretrained_info()['test_accuracy']:.2%}" in text
