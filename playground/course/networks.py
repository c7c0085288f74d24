"""Lessons 10–15: whole networks — the simple and the deep CNN of the notes, the Keras model,
compile / fit / evaluate, other data sets, and looking inside. Shapes and parameter counts come
from :mod:`playground.core.network` (through the Shape Lab's table), data set facts from the
registry. Pure Python: no streamlit, no TensorFlow.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np

from playground.core import network
from playground.course.model import Control, Lesson, Outcome, Shown
from playground.datasets.registry import REGISTRY, dataset_names
from playground.i18n import N_, _
from playground.inspector import pretrained
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings

SIMPLE = "Course CNN (2 conv)"
DEEP = "Course deep CNN (3 conv)"
KERAS = "Keras Sequential CNN"
CIFAR = "Course CIFAR-10 CNN"
CONVNETJS = "ConvNetJS MNIST demo"


def _table(spec: dict) -> list[Shown]:
    """The network's layer table and total, as the Shape Lab computes them."""
    rows, total, problem = lab.network_table(spec)
    if problem:
        raise ValueError(problem)
    return [Shown("table", _("Layer by layer"), rows),
            Shown("metric", _("Parameters"), f"{total:,}")]


def _total(spec: dict) -> int:
    return lab.network_table(spec)[1]


def _shape_before(spec: dict, kind: str) -> tuple[int, ...]:
    """The output shape of the layer just before the first layer of type ``kind``."""
    shape = network.input_shape_of(spec)
    for row in network.layer_rows(spec):
        if row.type == kind:
            return shape
        shape = row.output_shape
    return shape


def _training_link(preset: str, spec: dict, **settings) -> tuple[str, dict]:
    """The Training page with the preset when ``spec`` is the preset itself, else the spec."""
    query = {name: str(value) for name, value in settings.items()}
    if spec == network.preset(preset):
        query["preset"] = preset
    else:
        query["spec"] = network.to_json(spec)
    return "training", query


# 10 · The simple CNN ---------------------------------------------------------------------------
def _simple(values: dict) -> dict:
    spec = network.preset(SIMPLE)
    spec["layers"][0]["filters"] = values["f1"]
    spec["layers"][2]["filters"] = values["f2"]
    return spec


def shipped_model_note() -> list[Shown]:
    """What the playground's pretrained model scored (its metadata only: no TensorFlow)."""
    try:
        info = pretrained.pretrained_info()
    except pretrained.PretrainedUnavailable:
        return [Shown("markdown", "", _("No trained model ships with this copy: train one on "
                                        "the Training page."))]
    return [Shown("markdown", "", _(
        "A trained network ships with the playground: {preset}, {params:,} parameters, "
        "**{accuracy:.2%}** of the 10,000 test digits right after {epochs} epochs "
        "(`{command}` makes it again). The Model Inspector opens it.",
        preset=_(info.get("preset", "")), params=int(info.get("parameters", 0)),
        accuracy=float(info["test_accuracy"]),
        epochs=int(info.get("recipe", {}).get("epochs", 0)),
        command=info.get("command", pretrained.REPRODUCE)))]


def run_simple(values: dict) -> Outcome:
    spec = _simple(values)
    flat = _shape_before(spec, "Dense")
    return Outcome(_table(spec) + [Shown("metric", _("Flattened length"), f"{flat[0]:,}")]
                   + shipped_model_note())


SIMPLE_LESSON = Lesson(
    key="simple_cnn", title=N_("The simple CNN"),
    paragraphs=(
        N_("The notes' first real network (ex11_8): a 3×3 convolution with 32 filters (SAME) "
           "and ReLU, 2×2 max pooling with stride 2 (28 → 14), a 3×3 convolution with 64 "
           "filters and ReLU, pooling again (14 → 7), then the 7×7×64 maps reshaped into one "
           "vector of 3136 numbers and a fully connected layer to the 10 digits."),
        N_("Trained with Adam (learning rate 0.001) for 15 epochs in batches of 100, its cost "
           "falls from about 0.35 to 0.014 and it reads 98.9 % of the test digits correctly. "
           "The table below is computed from the layers; train it live on the Training page."),
        N_("Most of the network's parameters sit in the last layer: every one of the 3136 "
           "inputs connects to every one of the 10 outputs."),
    ),
    notes_code=("X_img = tf.reshape(X, [-1, 28, 28, 1])\n"
                "W1 = tf.Variable(tf.random_normal([3, 3, 1, 32], stddev=0.01))\n"
                "L1 = tf.nn.relu(tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding='SAME'))\n"
                "L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],\n"
                "                    padding='SAME')                   # 14×14×32\n"
                "W2 = tf.Variable(tf.random_normal([3, 3, 32, 64], stddev=0.01))\n"
                "L2 = tf.nn.relu(tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding='SAME'))\n"
                "L2 = tf.nn.max_pool(L2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],\n"
                "                    padding='SAME')                   # 7×7×64\n"
                "L2_flat = tf.reshape(L2, [-1, 7 * 7 * 64])\n"
                "W3 = tf.get_variable('W3', shape=[7 * 7 * 64, 10],\n"
                "                     initializer=tf.contrib.layers.xavier_initializer())\n"
                "logits = tf.matmul(L2_flat, W3) + b\n"
                "optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)"),
    keras_code=("model = keras.Sequential([\n"
                "    keras.layers.Conv2D(32, 3, padding='same', activation='relu',\n"
                "                        input_shape=(28, 28, 1)),\n"
                "    keras.layers.MaxPool2D(2, padding='same'),\n"
                "    keras.layers.Conv2D(64, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(2, padding='same'),\n"
                "    keras.layers.Flatten(),\n"
                "    keras.layers.Dense(10, activation='softmax'),\n"
                "])\n"
                "model.compile(optimizer=keras.optimizers.Adam(0.001),\n"
                "              loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
                "model.fit(x_train, y_train, epochs=15, batch_size=100)"),
    task=N_("Change the numbers of filters until the network has **fewer than 20,000** "
            "parameters."),
    controls=(Control("f1", N_("Filters of the first convolution"), "int", 32, 1, 128),
              Control("f2", N_("Filters of the second convolution"), "int", 64, 1, 128)),
    run=run_simple,
    check=lambda values: _total(_simple(values)) < 20_000,
    lab=lambda values: _training_link(SIMPLE, _simple(values)),
    lab_title=N_("Live Training"),
)


# 11 · The deep CNN with dropout ----------------------------------------------------------------
def _deep(values: dict) -> dict:
    spec = network.preset(DEEP)
    for layer in spec["layers"]:
        if layer["type"] == "Dropout":
            layer["rate"] = round(1.0 - values["keep_prob"], 6)
    return spec


def run_deep(values: dict) -> Outcome:
    spec = _deep(values)
    rate = round(1.0 - values["keep_prob"], 6)
    return Outcome(_table(spec) + [
        Shown("metric", _("Keras Dropout rate"), f"{rate:g}"),
        Shown("markdown", "", _("In training each unit is kept with probability {keep:g} "
                                "(and scaled by 1 / {keep:g}); in testing every unit is kept.",
                                keep=values["keep_prob"])),
    ])


DEEP_LESSON = Lesson(
    key="deep_cnn", title=N_("The deep CNN with dropout"),
    paragraphs=(
        N_("The deeper network (ex11_9) has three convolution blocks with 32, 64 and 128 "
           "filters. The third pooling rounds up, 7 → 4, so 4×4×128 = 2048 numbers enter a "
           "fully connected layer of 625 units with ReLU, and then the 10 outputs."),
        N_("To keep such a network from memorising its training digits, **dropout** switches "
           "off a random part of the units at every training step. The notes give the "
           "probability of *keeping* a unit, `keep_prob`: 0.7 while training, 1 while "
           "testing, so that the test uses the whole network. Keras asks for the opposite "
           "number, the *rate* of dropped units, and switches dropout off by itself outside "
           "training."),
        N_("With dropout the network reaches about 99.15 % test accuracy in the notes."),
    ),
    notes_code=("keep_prob = tf.placeholder(tf.float32)\n"
                "L1 = tf.nn.relu(tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding='SAME'))\n"
                "L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],\n"
                "                    padding='SAME')\n"
                "L1 = tf.nn.dropout(L1, keep_prob=keep_prob)\n"
                "# … L2 (64 filters), L3 (128 filters, 7 → 4)\n"
                "L3_flat = tf.reshape(L3, [-1, 128 * 4 * 4])\n"
                "L4 = tf.nn.dropout(tf.nn.relu(tf.matmul(L3_flat, W4) + b4), keep_prob=keep_prob)\n"
                "sess.run(optimizer, feed_dict={X: batch_xs, Y: batch_ys, keep_prob: 0.7})\n"
                "sess.run(accuracy, feed_dict={X: test_x, Y: test_y, keep_prob: 1})"),
    keras_code=("keras.layers.Dropout(rate=0.3)      # keep_prob 0.7\n"
                "model.fit(x_train, y_train, epochs=15, batch_size=100)   # dropout on\n"
                "model.evaluate(x_test, y_test)                           # dropout off"),
    task=N_("Set the notes' training value of **keep_prob**, and read the Keras rate it "
            "becomes."),
    controls=(Control("keep_prob", N_("keep_prob (training)"), "float", 0.5, 0.1, 1.0, 0.1),),
    run=run_deep,
    check=lambda values: math.isclose(values["keep_prob"], 0.7, abs_tol=1e-6),
    lab=lambda values: _training_link(DEEP, _deep(values)),
    lab_title=N_("Live Training"),
)


# 12 · The Keras Sequential CNN -----------------------------------------------------------------
def _keras(values: dict) -> dict:
    spec = network.preset(KERAS)
    spec["layers"][7]["units"] = values["units"]
    return spec


def run_keras(values: dict) -> Outcome:
    spec = _keras(values)
    return Outcome(_table(spec) + [Shown("code", _("The same network as Keras code"),
                                         network.keras_code(spec))])


def _keras_lab(values: dict) -> tuple[str, dict]:
    spec = _keras(values)
    settings = shape_settings.defaults()
    if spec == network.preset(KERAS):
        settings["preset"] = KERAS
    else:
        settings["net"] = network.to_json(lab.compact_spec(spec))
    return "shape_lab", shape_settings.to_query(settings)


KERAS_LESSON = Lesson(
    key="keras_cnn", title=N_("The Keras Sequential CNN"),
    paragraphs=(
        N_("Keras builds the same kind of network from ready-made layers in a "
           "`keras.Sequential` list: three Conv2D layers with 32, 64 and 128 filters (3×3, "
           "SAME, ReLU), each followed by MaxPool2D, then Flatten, Dense 256 with ReLU, "
           "Dropout 0.4 and Dense 10 with softmax."),
        N_("`model.summary()` counts its parameters: 320 + 18,496 + 73,856 + 524,544 + "
           "2,570 = **619,786**. The Dense 256 layer alone holds 524,544 of them (2048 "
           "inputs × 256 units + 256 biases)."),
        N_("The notes train it with a loop of their own (`tf.function` and `GradientTape`, "
           "Adam, 15 epochs, batches of 100); `model.fit` does the same in one line."),
    ),
    notes_code=("model = keras.Sequential()\n"
                "model.add(keras.layers.Conv2D(filters=32, kernel_size=3, activation=tf.nn.relu,\n"
                "                              padding='SAME', input_shape=(28, 28, 1)))\n"
                "model.add(keras.layers.MaxPool2D(padding='SAME'))\n"
                "model.add(keras.layers.Conv2D(filters=64, kernel_size=3, activation=tf.nn.relu,\n"
                "                              padding='SAME'))\n"
                "model.add(keras.layers.MaxPool2D(padding='SAME'))\n"
                "model.add(keras.layers.Conv2D(filters=128, kernel_size=3, activation=tf.nn.relu,\n"
                "                              padding='SAME'))\n"
                "model.add(keras.layers.MaxPool2D(padding='SAME'))\n"
                "model.add(keras.layers.Flatten())\n"
                "model.add(keras.layers.Dense(256, activation=tf.nn.relu))\n"
                "model.add(keras.layers.Dropout(0.4))\n"
                "model.add(keras.layers.Dense(10))\n"
                "model.summary()        # Total params: 619,786"),
    keras_code=("model = keras.Sequential([\n"
                "    keras.Input((28, 28, 1)),\n"
                "    keras.layers.Conv2D(32, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(padding='same'),\n"
                "    keras.layers.Conv2D(64, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(padding='same'),\n"
                "    keras.layers.Conv2D(128, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(padding='same'),\n"
                "    keras.layers.Flatten(),\n"
                "    keras.layers.Dense(256, activation='relu'),\n"
                "    keras.layers.Dropout(0.4),\n"
                "    keras.layers.Dense(10, activation='softmax'),\n"
                "])\n"
                "model.count_params()    # 619786\n"
                "# Keras 3 pooling layers accept only lower-case 'same' / 'valid'"),
    task=N_("Bring the total **below 200,000** parameters by changing only the Dense layer's "
            "units."),
    controls=(Control("units", N_("Units of the Dense layer"), "int", 256, 1, 2048),),
    run=run_keras,
    check=lambda values: _total(_keras(values)) < 200_000,
    lab=_keras_lab,
    lab_title=N_("Shape Lab"),
)


# 13 · compile / fit / evaluate / predict -------------------------------------------------------
OPTIMIZERS = ("Adam", "RMSprop", "SGD")
LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "mse")
N_TRAIN = REGISTRY["mnist"].n_train


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Batches per epoch as ``model.fit`` makes them (the last one may be smaller)."""
    return math.ceil(n_examples / batch_size)


def _compile_code(values: dict) -> str:
    return (f"model.compile(optimizer=keras.optimizers.{values['optimizer']}("
            f"learning_rate={values['learning_rate']:g}),\n"
            f"              loss='{values['loss']}', metrics=['accuracy'])\n"
            f"history = model.fit(x_train, y_train, epochs={values['epochs']}, "
            f"batch_size={values['batch_size']},\n"
            f"                    validation_data=(x_test, y_test))\n"
            "loss, accuracy = model.evaluate(x_test, y_test)\n"
            "probabilities = model.predict(x_test[:1])\n"
            "model.save('my_model.keras')\n"
            "model = keras.models.load_model('my_model.keras')")


def run_fit(values: dict) -> Outcome:
    steps = steps_per_epoch(N_TRAIN, values["batch_size"])
    return Outcome([
        Shown("metric", _("Steps per epoch"), f"{steps:,}"),
        Shown("metric", _("Steps in all"), f"{steps * values['epochs']:,}"),
        Shown("code", _("Your settings as Keras code"), _compile_code(values)),
    ])


FIT = Lesson(
    key="keras_fit", title=N_("Keras: compile, fit, evaluate, predict, save"),
    paragraphs=(
        N_("A Keras model is trained in four calls. `compile` picks the **optimizer** (Adam, "
           "RMSprop, SGD …) with its **learning rate**, the **loss** (categorical cross-entropy "
           "for classes, mse for numbers) and the metrics to report. `fit` trains for some "
           "**epochs** in batches of **batch_size** examples, optionally checking "
           "`validation_data` after each epoch."),
        N_("`evaluate` gives the loss and accuracy on data the model has not seen; `predict` "
           "gives the class probabilities of new pictures. Layers take options too: an "
           "activation such as sigmoid, L1/L2 regularizers on kernels and biases, initializers "
           "such as orthogonal kernels or a constant bias of 2.0."),
        N_("`save_weights` / `load_weights` keep only the numbers; `model.save('my_model.h5')` "
           "(today rather `.keras`) and `keras.models.load_model` keep the whole model. One "
           "epoch is one pass over the training data: 60,000 digits in batches of 100 are 600 "
           "steps."),
    ),
    notes_code=("model = tf.keras.Sequential()\n"
                "model.add(layers.Dense(64, activation='sigmoid',\n"
                "                       kernel_regularizer=tf.keras.regularizers.l2(0.01),\n"
                "                       kernel_initializer='orthogonal',\n"
                "                       bias_initializer=tf.keras.initializers.constant(2.0)))\n"
                "model.compile(optimizer=tf.train.AdamOptimizer(0.001),\n"
                "              loss='categorical_crossentropy', metrics=['accuracy'])\n"
                "model.fit(data, labels, epochs=10, batch_size=32,\n"
                "          validation_data=(val_data, val_labels))\n"
                "model.evaluate(data, labels, batch_size=32)\n"
                "model.predict(data, batch_size=32)\n"
                "model.save_weights('./weights/my_model')\n"
                "model.save('my_model.h5')\n"
                "model = tf.keras.models.load_model('my_model.h5')"),
    keras_code=("model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),\n"
                "              loss='categorical_crossentropy', metrics=['accuracy'])\n"
                "dataset = tf.data.Dataset.from_tensor_slices((data, labels)).batch(32)\n"
                "model.fit(dataset, epochs=10, validation_data=(val_data, val_labels))\n"
                "model.evaluate(data, labels, batch_size=32)\n"
                "model.predict(data, batch_size=32)\n"
                "model.save_weights('my_model.weights.h5')\n"
                "model.save('my_model.keras')\n"
                "model = keras.models.load_model('my_model.keras')"),
    task=N_("Use the notes' batch size: one epoch of the 60,000 training digits in **600 "
            "steps**."),
    controls=(Control("optimizer", N_("Optimizer"), "choice", "Adam", choices=OPTIMIZERS,
                      labels={name: name for name in OPTIMIZERS}),
              Control("learning_rate", N_("Learning rate"), "float", 0.001, 1e-5, 1.0, 0.001),
              Control("loss", N_("Loss"), "choice", LOSSES[0], choices=LOSSES,
                      labels={name: name for name in LOSSES}),
              Control("epochs", N_("Epochs"), "int", 5, 1, 50),
              Control("batch_size", N_("Batch size"), "int", 32, 1, 8192)),
    run=run_fit,
    check=lambda values: steps_per_epoch(N_TRAIN, values["batch_size"]) == 600,
    lab=lambda values: ("training", {
        "preset": KERAS, "optimizer": values["optimizer"],
        "learning_rate": f"{values['learning_rate']:g}", "epochs": str(values["epochs"]),
        "batch_size": str(values["batch_size"])}),
    lab_title=N_("Live Training"),
)


# 14 · Beyond digits ----------------------------------------------------------------------------
DATASETS = tuple(name for name in dataset_names() if name in ("mnist", "fashion_mnist",
                                                              "cifar10"))
DATASET_LABELS = {name: REGISTRY[name].title for name in DATASETS}


def _cifar(values: dict) -> dict:
    spec = network.preset(CIFAR)
    spec["input_shape"] = list(REGISTRY[values["dataset"]].input_shape)
    return spec


def run_beyond(values: dict) -> Outcome:
    entry = REGISTRY[values["dataset"]]
    spec = _cifar(values)
    before = _shape_before(spec, "Flatten")
    return Outcome([
        Shown("metric", _("Input"), lab.output_text(entry.input_shape)),
        Shown("metric", _("Before Flatten"), lab.output_text(before)),
        Shown("markdown", "", _("Classes: {names}", names=", ".join(entry.class_names))),
    ] + _table(spec))


BEYOND = Lesson(
    key="beyond_digits", title=N_("Beyond digits: clothes and photos"),
    paragraphs=(
        N_("The same recipe classifies other pictures. **Fashion-MNIST** has the shape of "
           "MNIST (28×28 gray) but shows ten kinds of clothes, and is harder to get right."),
        N_("**CIFAR-10** holds 32×32 colour photos (32×32×3) of ten things such as planes, "
           "cats and ships. The notes' network for it: conv 3×3×32 → pool → conv 3×3×64 → "
           "pool → 8×8×64 → dense 10; its Keras version trains with SGD for 5 epochs, which "
           "is slow on a laptop. Cats against dogs works the same way on larger photos, and "
           "the Training page takes your own pictures too."),
    ),
    notes_code=("X = tf.placeholder(tf.float32, [None, 32, 32, 3])\n"
                "W1 = tf.Variable(tf.random_normal([3, 3, 3, 32], stddev=0.01))\n"
                "L1 = tf.nn.relu(tf.nn.conv2d(X, W1, strides=[1, 1, 1, 1], padding='SAME'))\n"
                "L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],\n"
                "                    padding='SAME')\n"
                "W2 = tf.Variable(tf.random_normal([3, 3, 32, 64], stddev=0.01))\n"
                "L2 = tf.nn.relu(tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding='SAME'))\n"
                "L2 = tf.nn.max_pool(L2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],\n"
                "                    padding='SAME')\n"
                "L2_flat = tf.reshape(L2, [-1, 8 * 8 * 64])\n"
                "logits = tf.matmul(L2_flat, W3) + b"),
    keras_code=("(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()\n"
                "model = keras.Sequential([\n"
                "    keras.Input((32, 32, 3)),\n"
                "    keras.layers.Conv2D(32, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(padding='same'),\n"
                "    keras.layers.Conv2D(64, 3, padding='same', activation='relu'),\n"
                "    keras.layers.MaxPool2D(padding='same'),\n"
                "    keras.layers.Flatten(),\n"
                "    keras.layers.Dense(10, activation='softmax'),\n"
                "])\n"
                "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy',\n"
                "              metrics=['accuracy'])\n"
                "model.fit(x_train / 255, y_train, epochs=5)"),
    task=N_("Give the CIFAR-10 network the pictures it was made for: **8×8×64** before "
            "Flatten."),
    controls=(Control("dataset", N_("Data set"), "choice", "mnist", choices=DATASETS,
                      labels=DATASET_LABELS),),
    run=run_beyond,
    check=lambda values: _shape_before(_cifar(values), "Flatten") == (8, 8, 64),
    lab=lambda values: ("training", {"dataset": values["dataset"]}),
    lab_title=N_("Live Training"),
)


# 15 · Looking inside ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _convnetjs_rows() -> tuple:
    return tuple(network.layer_rows(network.preset(CONVNETJS)))


LOOK_LAYERS = tuple(str(row.index + 1) for row in _convnetjs_rows()
                    if row.type in ("Conv2D", "MaxPool2D"))
class _LayerLabels(Mapping):
    """The ConvNetJS layers' radio labels, written when shown: the layer words (stride,
    padding, window) in the session's language, as the Shape Lab shows them."""

    def __getitem__(self, key: str) -> str:
        row = _convnetjs_rows()[int(key) - 1]
        return f"{row.index + 1} · {row.type} {lab.describe_text(row.description)}"

    def __iter__(self):
        return (str(row.index + 1) for row in _convnetjs_rows())

    def __len__(self) -> int:
        return len(_convnetjs_rows())


LOOK_LABELS = _LayerLabels()


def _look_shape(values: dict) -> tuple[int, ...]:
    return _convnetjs_rows()[int(values["layer"]) - 1].output_shape


@functools.lru_cache(maxsize=1)
def _probe():
    """The shipped model with every Conv2D layer's output as well (built once per process)."""
    return network.probe_model(pretrained.pretrained_model(), kinds=("Conv2D",))


def look_inside(index: int) -> list[Shown]:
    """Test digit ``index`` through the shipped trained model: the digit, the first
    convolution's feature maps and the answer. TensorFlow runs here (the model's own)."""
    if not pretrained.pretrained_available():
        return [Shown("markdown", "", _("No trained model ships with this copy: train one on "
                                        "the Training page, then open it in the Model "
                                        "Inspector."))]
    from playground.datasets import mnist
    try:
        _train, (x_test, y_test) = mnist.load_mnist()
        outputs = _probe()(mnist.to_float(x_test[index:index + 1]), training=False)
    except (mnist.MnistUnavailable, pretrained.PretrainedUnavailable) as error:
        return [Shown("warning", "", str(error).splitlines()[0])]
    first = np.asarray(outputs[0])[0]
    probabilities = np.asarray(outputs[-1])[0]
    answer = int(np.argmax(probabilities))
    return [
        Shown("picture", _("Test digit {index} (label {label})", index=index,
                           label=int(y_test[index])), np.asarray(x_test[index], np.float32)),
        Shown("maps", _("The trained network's first feature maps ({shape})",
                        shape=lab.output_text(first.shape)), first[:, :, :8],
              {"labels": [_("map {i}", i=i + 1) for i in range(min(8, first.shape[2]))]}),
        Shown("metric", _("The trained network reads"),
              f"{answer} ({float(probabilities[answer]):.1%})"),
    ]


def run_look(values: dict) -> Outcome:
    shape = _look_shape(values)
    return Outcome(look_inside(values["digit"]) + [
        Shown("markdown", "", _("**The ConvNetJS MNIST network**, layer by layer:")),
        Shown("metric", _("Activations of this layer"), lab.output_text(shape)),
        Shown("markdown", "", _("{maps} maps of {h}×{w} numbers: one picture per filter.",
                                maps=shape[2], h=shape[0], w=shape[1])),
    ] + _table(network.preset(CONVNETJS)))


LOOK = Lesson(
    key="look_inside", title=N_("Looking inside a trained network"),
    paragraphs=(
        N_("A trained network can be opened up. Its **feature maps** (activations) show "
           "what each filter found in one picture; its **filters** show what it looks for — "
           "the first layers of a large network such as AlexNet learn edges and colour blobs, "
           "much like the hand-made filters of lesson 8."),
        N_("Karpathy's ConvNetJS demo shows this for MNIST in the browser: 24×24 crops, conv "
           "5×5×8, pooling, conv 5×5×16, pooling, softmax, with every layer's activations "
           "and gradients drawn."),
        N_("The Model Inspector does the same for the playground's networks: draw a digit and "
           "see every layer's maps, the filters, the probabilities, and the **saliency** and "
           "**Grad-CAM** maps that show which pixels decided the answer."),
    ),
    notes_code=("# look at the activations of one layer for one test digit\n"
                "units = sess.run(L1, feed_dict={X: [mnist.test.images[0]]})\n"
                "for i in range(units.shape[3]):\n"
                "    plt.subplot(4, 8, i + 1)\n"
                "    plt.imshow(units[0, :, :, i], cmap='gray')"),
    keras_code=("probe = keras.Model(model.inputs, model.layers[0].output)\n"
                "maps = probe.predict(x_test[:1])        # (1, 28, 28, 32)\n"
                "kernel, bias = model.layers[0].get_weights()   # (3, 3, 1, 32), (32,)"),
    task=N_("In the ConvNetJS network, find the layer whose activations are **12×12×16**."),
    controls=(Control("digit", N_("Test digit #"), "int", 0, 0, 9999),
              Control("layer", N_("ConvNetJS layer"), "choice", LOOK_LAYERS[0], choices=LOOK_LAYERS,
                      labels=LOOK_LABELS)),
    run=run_look,
    check=lambda values: _look_shape(values) == (12, 12, 16),
    lab=lambda values: ("inspector", {}),
    lab_title=N_("Model Inspector"),
)

LESSONS = (SIMPLE_LESSON, DEEP_LESSON, KERAS_LESSON, FIT, BEYOND, LOOK)
