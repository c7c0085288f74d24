"""Lessons 1–9: one filter, output sizes, depth, the toy tensors, pooling, feature detectors
and one MNIST digit. Every number comes from :mod:`playground.core` (shapes, filters) or the
labs' wings (:mod:`playground.shape_lab.lab`, :mod:`playground.filter_lab.pipeline`); the
lesson only picks the inputs. Pure Python: no streamlit.
"""
from __future__ import annotations

import numpy as np

from playground.core import filters, network, shapes
from playground.course.model import Control, Lesson, Outcome, Shown
from playground.filter_lab import pipeline
from playground.filter_lab import settings as filter_settings
from playground.i18n import N_, _
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings

TOY = filters.toy_image(3, 3)            # the notes' 3×3 image holding 1 … 9
ONES = np.ones((2, 2), dtype=np.float32)  # their 2×2 filter of ones
PADDING_LABELS = {"valid": "VALID", "same": "SAME"}
TOY_TAB = filter_settings.TABS[1]
MNIST_TAB = filter_settings.TABS[2]


def _filter_lab_tab(tab: str) -> tuple[str, dict]:
    # The Filter Lab's tab is named in the page's language in its address too.
    return "filter_lab", {"tab": _(tab)}


def _shape_lab_settings(**changes) -> dict:
    settings = shape_settings.defaults()
    settings.update(changes)
    return settings


def _shape_lab_link(settings: dict) -> tuple[str, dict]:
    return "shape_lab", shape_settings.to_query(settings)


# 1 · Why convolution ---------------------------------------------------------------------------
# One neuron sees a 3×3 area (the toy image) through a vertical-edge filter: W·x = 6.
NEURON_KERNEL = np.array([[-1, 0, 1]] * 3, dtype=np.float32)


def _neuron(values: dict) -> tuple[dict, float, float]:
    explained = filters.explain_pixel(TOY, NEURON_KERNEL, 0, 0)
    z = explained["total"] + values["bias"]
    return explained, z, float(filters.relu(z))


def run_why(values: dict) -> Outcome:
    explained, z, out = _neuron(values)
    stages = network.pipeline_stages(network.preset(shape_settings.DEFAULT_PRESET))
    return Outcome([
        Shown("matrix", _("Receptive field x (3×3 area)"), explained["patch"]),
        Shown("matrix", _("Filter weights W"), explained["kernel"], {"signed": True}),
        Shown("markdown", "", _("W·x = {formula}; W·x + b = {z:g}; ReLU(W·x + b) = **{out:g}**",
                                formula=pipeline.formula(explained), z=z, out=out)),
        Shown("metric", _("One filter, one area → one number"), f"{out:g}"),
        Shown("pipeline", _("The course's pipeline: conv → ReLU → pool, twice, then fully "
                            "connected → softmax"), stages),
    ])


WHY = Lesson(
    key="why", title=N_("Why convolution"),
    paragraphs=(
        N_("In the famous cat experiment, each neuron of the visual cortex reacted only to a "
           "small part of what the eye saw. A convolutional network copies that idea: each of "
           "its neurons looks at a small area of the picture, its **receptive field**, instead "
           "of at every pixel at once."),
        N_("A **filter** (kernel) is a small grid of weights. Laid on one area, it multiplies "
           "each pixel by its weight, adds everything up and adds a bias: **W·x + b**, one "
           "number. ReLU then keeps it if it is positive and turns it into 0 otherwise."),
        N_("Sliding the filter over the whole picture gives a map of such numbers. A CNN "
           "stacks these steps — convolution → ReLU → pooling, several times — and ends with "
           "fully connected layers and softmax, which turn the last maps into class "
           "probabilities."),
    ),
    notes_code=("X = tf.placeholder(tf.float32, [None, 3, 3, 1])\n"
                "W = tf.Variable(tf.random_normal([3, 3, 1, 1]))   # one 3×3 filter\n"
                "b = tf.Variable(tf.random_normal([1]))\n"
                "L = tf.nn.conv2d(X, W, strides=[1, 1, 1, 1], padding='VALID') + b\n"
                "L = tf.nn.relu(L)                                 # one number: W·x + b"),
    keras_code=("layer = keras.layers.Conv2D(filters=1, kernel_size=3, padding='valid',\n"
                "                            activation='relu', input_shape=(3, 3, 1))\n"
                "# layer(x) = relu(W·x + b) for every 3×3 area of x"),
    task=N_("Choose a bias **b** that keeps this neuron silent: ReLU(W·x + b) = 0."),
    controls=(Control("bias", N_("Bias b"), "int", 0, -20, 20),),
    run=run_why,
    check=lambda values: _neuron(values)[2] == 0,
    lab=lambda values: _filter_lab_tab(TOY_TAB),
    lab_title=N_("Filter Lab: the toy tensors"),
)


# 2 · Output size -------------------------------------------------------------------------------
def _size_settings(values: dict) -> dict:
    return _shape_lab_settings(h=values["n"], w=values["n"], c=1, kh=values["f"],
                               kw=values["f"], sh=values["stride"], sw=values["stride"],
                               padding="explicit", pad=values["pad"])


def run_output_size(values: dict) -> Outcome:
    settings = _size_settings(values)
    report = lab.layer_report(settings)
    shown = [Shown("metric", _("Output size"), lab.output_text(report.output_shape[:2])),
             Shown("markdown", "", report.formulas[0])]
    shown += [Shown("warning", "", line) for line in report.fit[:1]]
    if report.axes[0].padded <= lab.MAX_DRAWN:
        shown.append(Shown("window", _("Sliding window"), lab.window(settings, report, 0)))
    return Outcome(shown)


def check_output_size(values: dict) -> bool:
    return (values["n"], values["f"]) == (7, 3) and \
        shapes.output_size(7, 3, values["stride"], values["pad"]) == 7


OUTPUT_SIZE = Lesson(
    key="output_size", title=N_("Output size: stride and padding"),
    paragraphs=(
        N_("Put a 3×3 filter on a 7×7 input and move it one pixel at a time: it fits in 5 "
           "places per row, so the output is 5×5. With a **stride** of 2 it jumps two pixels "
           "and fits in only 3 places: 3×3."),
        N_("The rule is **(N − F) / S + 1** for an N×N input, an F×F filter and stride S. "
           "When the division is not exact, the filter does not fit evenly and some pixels "
           "are never read."),
        N_("**Padding** adds a border of zeros first. One pixel of zeros makes the 7×7 input "
           "9×9, and the 3×3 filter then gives 7×7 again: with padding P the rule becomes "
           "**(N − F + 2P) / S + 1**. This is how networks keep the size of their maps."),
    ),
    notes_code=("# 7×7 input, 3×3 filter\n"
                "tf.nn.conv2d(X, W, strides=[1, 1, 1, 1], padding='VALID')   # → 5×5\n"
                "tf.nn.conv2d(X, W, strides=[1, 2, 2, 1], padding='VALID')   # → 3×3\n"
                "X = tf.pad(X, [[0, 0], [1, 1], [1, 1], [0, 0]])              # 9×9\n"
                "tf.nn.conv2d(X, W, strides=[1, 1, 1, 1], padding='VALID')   # → 7×7"),
    keras_code=("keras.layers.Conv2D(1, kernel_size=3, strides=1)   # 7×7 → 5×5\n"
                "keras.layers.Conv2D(1, kernel_size=3, strides=2)   # 7×7 → 3×3\n"
                "keras.Sequential([keras.layers.ZeroPadding2D(1),    # 7×7 → 9×9\n"
                "                  keras.layers.Conv2D(1, kernel_size=3)])  # → 7×7"),
    task=N_("Make a **7×7 output** from the 7×7 input with a 3×3 filter."),
    controls=(Control("n", N_("Input size N"), "int", 7, 1, 40),
              Control("f", N_("Filter size F"), "int", 3, 1, 15),
              Control("stride", N_("Stride S"), "int", 1, 1, 10),
              Control("pad", N_("Padding P (zeros per side)"), "int", 0, 0, 10)),
    run=run_output_size, check=check_output_size,
    lab=lambda values: _shape_lab_link(_size_settings(values)),
    lab_title=N_("Shape Lab"),
)


# 3 · Depth -------------------------------------------------------------------------------------
def _depth_settings(values: dict) -> dict:
    return _shape_lab_settings(h=32, w=32, c=3, kh=values["f"], kw=values["f"],
                               filters=values["filters"])


def run_depth(values: dict) -> Outcome:
    report = lab.layer_report(_depth_settings(values))
    f, count = values["f"], values["filters"]
    weights = shapes.conv_param_count(f, 3, count, use_bias=False)
    return Outcome([
        Shown("metric", _("Activation maps"), lab.output_text(report.output_shape)),
        Shown("metric", _("Weights"), f"{weights:,}"),
        Shown("markdown", "", _("{f}×{f}×3 weights per filter × {count} filters = {weights:,} "
                                "weights (+ {count} biases = {params:,} parameters)",
                                f=f, count=count, weights=weights, params=report.params)),
    ])


DEPTH = Lesson(
    key="depth", title=N_("Depth: filters make activation maps"),
    paragraphs=(
        N_("A colour picture has **depth**: 32×32×3 holds a red, a green and a blue channel. "
           "A filter always reaches through the full depth, so a 5×5 filter on it is really "
           "5×5×3 = 75 weights, and each position still gives one number."),
        N_("Sliding it over the 32×32 picture (stride 1, no padding) gives one 28×28 "
           "**activation map**. Each further filter adds one more map: six filters stack six "
           "maps into 28×28×6, and hold 5×5×3×6 = 450 weights (plus one bias each)."),
    ),
    notes_code=("X = tf.placeholder(tf.float32, [None, 32, 32, 3])\n"
                "W = tf.Variable(tf.random_normal([5, 5, 3, 6]))   # six 5×5×3 filters\n"
                "L = tf.nn.conv2d(X, W, strides=[1, 1, 1, 1], padding='VALID')\n"
                "# L: (?, 28, 28, 6)"),
    keras_code=("layer = keras.layers.Conv2D(filters=6, kernel_size=5,\n"
                "                            input_shape=(32, 32, 3))\n"
                "# output (None, 28, 28, 6); layer.count_params() == 456"),
    task=N_("Get the notes' **28×28×6** activation maps from the 32×32×3 picture."),
    controls=(Control("filters", N_("Number of filters"), "int", 1, 1, 64),
              Control("f", N_("Filter size F"), "int", 5, 1, 9)),
    run=run_depth,
    check=lambda values: lab.layer_report(_depth_settings(values)).output_shape == (28, 28, 6),
    lab=lambda values: _shape_lab_link(_depth_settings(values)),
    lab_title=N_("Shape Lab"),
)


# 4 · The toy image, VALID ----------------------------------------------------------------------
def _toy_kernel(values: dict) -> np.ndarray:
    return np.array([[values["w1"], values["w2"]], [values["w3"], values["w4"]]], np.float32)


def run_toy(values: dict) -> Outcome:
    kernel = _toy_kernel(values)
    out = filters.convolve(TOY, kernel, 1, "valid")
    forms = [pipeline.symbolic(filters.receptive_field(TOY, (2, 2), r, c)["patch"])
             for r in range(2) for c in range(2)]
    return Outcome([
        Shown("matrix", _("Image (1, 3, 3, 1)"), TOY),
        Shown("matrix", _("Filter (2, 2, 1, 1)"), kernel, {"signed": True}),
        Shown("matrix", _("VALID output (1, 2, 2, 1)"), out),
        Shown("markdown", "", _("Top-left: {formula}", formula=pipeline.formula(
            filters.explain_pixel(TOY, kernel, 0, 0)))),
        Shown("markdown", "", _("Symbolically, the four outputs are:") + "\n\n"
              + "\n".join(f"- `{form}`" for form in forms)),
    ])


TOY_LESSON = Lesson(
    key="toy", title=N_("The toy image: a 2×2 filter, VALID"),
    paragraphs=(
        N_("The notes' smallest example: a 3×3 image holding 1 … 9 (shape (1, 3, 3, 1): one "
           "image, 3×3, one channel) and a 2×2 filter of ones (shape (2, 2, 1, 1))."),
        N_("With stride 1 and **VALID** (no padding) the filter fits in 2×2 places. The "
           "top-left one covers 1, 2, 4 and 5, so it gives 1·1 + 2·1 + 4·1 + 5·1 = 12; the "
           "whole output is [[12, 16], [24, 28]]. With weights w1 … w4 instead of ones, the "
           "top-left output is w1 + 2·w2 + 4·w3 + 5·w4."),
    ),
    notes_code=("image = np.array([[[[1], [2], [3]],\n"
                "                   [[4], [5], [6]],\n"
                "                   [[7], [8], [9]]]], dtype=np.float32)   # (1, 3, 3, 1)\n"
                "weight = tf.constant([[[[1.]], [[1.]]],\n"
                "                      [[[1.]], [[1.]]]])                  # (2, 2, 1, 1)\n"
                "conv2d = tf.nn.conv2d(image, weight, strides=[1, 1, 1, 1], padding='VALID')\n"
                "conv2d_img = conv2d.eval()                              # (1, 2, 2, 1)"),
    keras_code=("image = np.arange(1, 10, dtype='float32').reshape(1, 3, 3, 1)\n"
                "weight = np.ones((2, 2, 1, 1), dtype='float32')\n"
                "conv2d = tf.nn.conv2d(image, weight, strides=1, padding='VALID')\n"
                "conv2d.numpy()[0, :, :, 0]     # [[12, 16], [24, 28]]"),
    task=N_("Change the four weights so that the output is the image's bottom-right corner, "
            "**[[5, 6], [8, 9]]**."),
    controls=tuple(Control(f"w{i}", f"w{i}", "float", 1.0, -10, 10, 1.0) for i in range(1, 5)),
    run=run_toy,
    check=lambda values: np.array_equal(filters.convolve(TOY, _toy_kernel(values), 1, "valid"),
                                        [[5, 6], [8, 9]]),
    lab=lambda values: _shape_lab_link(_shape_lab_settings()),
    lab_title=N_("Shape Lab"),
)


# 5 · SAME padding ------------------------------------------------------------------------------
def run_same(values: dict) -> Outcome:
    padding, stride = values["padding"], values["stride"]
    padded, is_pad = filters.pad(TOY, (2, 2), stride, padding)
    out = filters.convolve(TOY, ONES, stride, padding)
    last = filters.explain_pixel(TOY, ONES, out.shape[0] - 1, out.shape[1] - 1, stride, padding)
    return Outcome([
        Shown("matrix", _("Padded input (zeros marked)"), padded, {"is_pad": is_pad}),
        Shown("matrix", _("{padding} output", padding=PADDING_LABELS[padding]), out),
        Shown("metric", _("Output shape"), str((1,) + out.shape + (1,))),
        Shown("markdown", "", _("Bottom-right: {formula}", formula=pipeline.formula(last))),
    ])


SAME = Lesson(
    key="same", title=N_("SAME padding"),
    paragraphs=(
        N_("**SAME** asks TensorFlow to add just enough zeros that the output keeps the "
           "input's size (divided by the stride, rounded up). For the 3×3 toy image and a 2×2 "
           "filter one extra row and column are needed: TensorFlow puts them at the bottom "
           "and on the right."),
        N_("The output is then 3×3: [[12, 16, 9], [24, 28, 15], [15, 17, 9]]. The last cell "
           "sees 9 and three zeros: 9 + 0 + 0 + 0 = 9."),
    ),
    notes_code=("conv2d = tf.nn.conv2d(image, weight, strides=[1, 1, 1, 1], padding='SAME')\n"
                "conv2d_img = conv2d.eval()     # (1, 3, 3, 1)"),
    keras_code=("conv2d = tf.nn.conv2d(image, weight, strides=1, padding='SAME')\n"
                "# or keras.layers.Conv2D(1, 2, padding='same', use_bias=False)"),
    task=N_("Keep the output as large as the input: make it **3×3**."),
    controls=(Control("padding", N_("Padding"), "choice", "valid",
                      choices=("valid", "same"), labels=PADDING_LABELS),
              Control("stride", N_("Stride S"), "int", 1, 1, 3)),
    run=run_same,
    check=lambda values: filters.convolve(TOY, ONES, values["stride"],
                                          values["padding"]).shape == (3, 3),
    lab=lambda values: _shape_lab_link(_shape_lab_settings(
        padding=values["padding"], sh=values["stride"], sw=values["stride"])),
    lab_title=N_("Shape Lab"),
)


# 6 · Three filters -----------------------------------------------------------------------------
def _bank(values: dict) -> np.ndarray:
    return filters.convolve(TOY, pipeline.filter_bank([values["a"], values["b"], values["c"]]),
                            1, "same")


def run_three(values: dict) -> Outcome:
    maps = _bank(values)
    batch = maps[None]                     # (1, 3, 3, 3) as conv2d returns it
    split = np.swapaxes(batch, 0, 3)       # (3, 3, 3, 1): one image per filter
    shown = [Shown("matrix", _("Map {i} (weights {w:g})", i=i + 1, w=w), maps[:, :, i])
             for i, w in enumerate((values["a"], values["b"], values["c"]))]
    shown.append(Shown("markdown", "", _("conv2d gives shape {before}; "
                                         "`np.swapaxes(conv2d_img, 0, 3)` makes it {after}: "
                                         "three 3×3 one-channel images.",
                                         before=batch.shape, after=split.shape)))
    return Outcome(shown)


THREE = Lesson(
    key="three_filters", title=N_("Three filters, three maps"),
    paragraphs=(
        N_("A weight of shape (2, 2, 1, 3) is three 2×2 filters at once. Here each filter "
           "holds one value everywhere: 1, 10 and −1. Each filter makes its own map, so "
           "the output is (1, 3, 3, 3): the SAME map from before times 1, 10 and −1."),
        N_("To look at the maps one by one the notes swap the first and last axes with "
           "`np.swapaxes(conv2d_img, 0, 3)`: the three channels become three images of "
           "3×3×1."),
    ),
    notes_code=("weight = tf.constant([[[[1., 10., -1.]], [[1., 10., -1.]]],\n"
                "                      [[[1., 10., -1.]], [[1., 10., -1.]]]])  # (2, 2, 1, 3)\n"
                "conv2d = tf.nn.conv2d(image, weight, strides=[1, 1, 1, 1], padding='SAME')\n"
                "conv2d_img = conv2d.eval()                      # (1, 3, 3, 3)\n"
                "conv2d_img = np.swapaxes(conv2d_img, 0, 3)      # (3, 3, 3, 1)\n"
                "for i, one_img in enumerate(conv2d_img):\n"
                "    print(one_img.reshape(3, 3))"),
    keras_code=("weight = np.ones((2, 2, 1, 3), 'float32') * [1., 10., -1.]\n"
                "conv2d = tf.nn.conv2d(image, weight, strides=1, padding='SAME')\n"
                "for one_img in np.swapaxes(conv2d.numpy(), 0, 3):\n"
                "    print(one_img.reshape(3, 3))"),
    task=N_("Make map 2 exactly twice the SAME result: **[[24, 32, 18], [48, 56, 30], "
            "[30, 34, 18]]**."),
    controls=(Control("a", N_("Weight of filter 1"), "float", 1.0, -100, 100, 1.0),
              Control("b", N_("Weight of filter 2"), "float", 10.0, -100, 100, 1.0),
              Control("c", N_("Weight of filter 3"), "float", -1.0, -100, 100, 1.0)),
    run=run_three,
    check=lambda values: np.array_equal(_bank(values)[:, :, 1],
                                        2 * filters.convolve(TOY, ONES, 1, "same")),
    lab=lambda values: _filter_lab_tab(TOY_TAB),
    lab_title=N_("Filter Lab: the toy tensors"),
)


# 7 · Max pooling -------------------------------------------------------------------------------
POOL_INPUTS = {
    "4x4": pipeline.toy_rows(4, 4),
    "slide": [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]],
    "2x2": [[4, 3], [2, 1]],
    "6x6": pipeline.toy_rows(6, 6),
}
POOL_LABELS = {"4x4": N_("4×4 holding 1 … 16"), "slide": N_("the slide's depth slice"),
               "2x2": "[[4, 3], [2, 1]]", "6x6": N_("6×6 holding 1 … 36")}
POOL_MODES = {"max": N_("max"), "avg": N_("average")}


def _pooled(values: dict) -> np.ndarray:
    return filters.pool(pipeline.matrix(POOL_INPUTS[values["example"]]), values["size"],
                        values["stride"], values["padding"], values["mode"])


def run_pool(values: dict) -> Outcome:
    x = pipeline.matrix(POOL_INPUTS[values["example"]])
    out = _pooled(values)
    return Outcome([
        Shown("matrix", _("Input"), x),
        Shown("matrix", _("Output"), out),
        Shown("markdown", "", _("{mode} pooling {size}×{size}, stride {stride}, {padding}",
                                mode=_(POOL_MODES[values["mode"]]), size=values["size"],
                                stride=values["stride"],
                                padding=PADDING_LABELS[values["padding"]])),
        Shown("metric", _("Output size"), lab.output_text(out.shape)),
    ])


def check_pool(values: dict) -> bool:
    return (values["example"], values["mode"], values["size"], values["stride"]) == \
        ("6x6", "max", 5, 4) and _pooled(values).shape == (2, 2)


POOL = Lesson(
    key="pooling", title=N_("Max pooling"),
    paragraphs=(
        N_("**Pooling** shrinks each map on its own, with no weights to learn: a window "
           "slides over the map and keeps one number per place. **Max pooling** keeps the "
           "largest; average pooling the mean. (Min pooling is possible in principle, but "
           "TensorFlow offers max and average.)"),
        N_("A 2×2 window with stride 2 halves the size: the 4×4 map holding 1 … 16 becomes "
           "[[6, 8], [14, 16]], and the slide's depth slice becomes [[6, 8], [3, 4]]. On "
           "[[4, 3], [2, 1]] with stride 1, VALID fits once ([[4]]) while SAME pads and keeps "
           "2×2."),
        N_("With a 6×6 map, a 5×5 window and stride 4, VALID fits only once. SAME wants "
           "⌈6 / 4⌉ = 2 outputs per side and pads 3 more cells, giving [[22, 24], [34, 36]]."),
    ),
    notes_code=("image = np.array([[[[4], [3]],\n"
                "                   [[2], [1]]]], dtype=np.float32)\n"
                "pool = tf.nn.max_pool(image, ksize=[1, 2, 2, 1],\n"
                "                      strides=[1, 1, 1, 1], padding='SAME')\n"
                "print(pool.eval())            # [[4, 3], [2, 1]]"),
    keras_code=("pool = keras.layers.MaxPool2D(pool_size=2, strides=1, padding='same')\n"
                "pool(image)[0, :, :, 0]       # [[4, 3], [2, 1]]\n"
                "# or tf.nn.max_pool2d(image, ksize=2, strides=1, padding='SAME')"),
    task=N_("On the **6×6** map holding 1 … 36, with a 5×5 max window and stride 4, get the "
            "2×2 output **[[22, 24], [34, 36]]**."),
    controls=(Control("example", N_("Input"), "choice", "4x4", choices=tuple(POOL_INPUTS),
                      labels=POOL_LABELS),
              Control("mode", N_("Pooling"), "choice", "max", choices=tuple(POOL_MODES),
                      labels=POOL_MODES),
              Control("size", N_("Window size"), "int", 2, 1, 6),
              Control("stride", N_("Stride S"), "int", 2, 1, 6),
              Control("padding", N_("Padding"), "choice", "valid", choices=("valid", "same"),
                      labels=PADDING_LABELS)),
    run=run_pool, check=check_pool,
    lab=lambda values: _filter_lab_tab(TOY_TAB),
    lab_title=N_("Filter Lab: the toy tensors"),
)


# 8 · Filters as feature detectors --------------------------------------------------------------
DETECTORS = filter_settings.COURSE_SET   # vertical edge, horizontal edge, curve
DETECTOR_LABELS = {DETECTORS[0]: N_("edge filter (vertical edges)"),
                   DETECTORS[1]: N_("edge filter (horizontal edges)"),
                   DETECTORS[2]: N_("curve detector")}
FIELDS = {"curve": filters.COURSE_CURVE_FIELD_MATCH, "other": filters.COURSE_CURVE_FIELD_MISS}
FIELD_LABELS = {"curve": N_("a curve like the filter's"), "other": N_("another shape")}


def _detect(values: dict) -> np.ndarray:
    return filters.convolve(FIELDS[values["field"]], filters.KERNELS[values["filter"]], 1,
                            "valid")


def run_detect(values: dict) -> Outcome:
    field_values = FIELDS[values["field"]]
    kernel = filters.KERNELS[values["filter"]]
    out = _detect(values)
    shown = [Shown("matrix", _("Receptive field (7×7 pixels)"), field_values),
             Shown("matrix", _(DETECTOR_LABELS[values["filter"]]), kernel, {"signed": True}),
             Shown("matrix", _("Response"), out)]
    if out.size == 1:
        explained = filters.explain_pixel(field_values, kernel, 0, 0)
        shown.append(Shown("markdown", "", pipeline.formula(explained)))
    return Outcome(shown)


DETECT = Lesson(
    key="detectors", title=N_("Filters as feature detectors"),
    paragraphs=(
        N_("A filter answers strongly where the picture looks like the filter. The notes' "
           "5×5 **edge filter** has positive weights on the left and negative ones on the "
           "right (2 1 0 −1 −2, 3 2 0 −2 −3, 4 3 0 −3 −4, …, divided by 23): it finds vertical "
           "edges, and its transpose finds horizontal ones."),
        N_("The 7×7 **curve detector** holds 30 along a curve and 0 elsewhere. On a "
           "receptive field with the same curve the products add up to (50·30) + (50·30) + "
           "(50·30) + (20·30) + (50·30) = 6600; on a different shape the bright pixels miss "
           "the weights and the answer is 0."),
        N_("Nobody draws these filters by hand in a CNN: the filters are weights, learned "
           "by back-propagation."),
    ),
    notes_code=("# a 7×7 curve-detector filter applied to one 7×7 receptive field\n"
                "W = tf.constant(curve_filter.reshape(7, 7, 1, 1), tf.float32)\n"
                "x = tf.constant(receptive_field.reshape(1, 7, 7, 1), tf.float32)\n"
                "tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding='VALID')   # 6600"),
    keras_code=("W = curve_filter.reshape(7, 7, 1, 1).astype('float32')\n"
                "x = receptive_field.reshape(1, 7, 7, 1).astype('float32')\n"
                "tf.nn.conv2d(x, W, strides=1, padding='VALID')   # [[[[6600.]]]]"),
    task=N_("Make the **curve detector** fire: find the receptive field where it answers "
            "6600."),
    controls=(Control("filter", N_("Filter"), "choice", DETECTORS[2], choices=DETECTORS,
                      labels=DETECTOR_LABELS),
              Control("field", N_("Receptive field"), "choice", "other", choices=tuple(FIELDS),
                      labels=FIELD_LABELS)),
    run=run_detect,
    check=lambda values: values["filter"] == DETECTORS[2] and float(_detect(values).max()) > 0,
    lab=lambda values: ("filter_lab", {"filter": values["filter"]}),
    lab_title=N_("Filter Lab"),
)


# 9 · One MNIST digit ---------------------------------------------------------------------------
def _digit_shape(values: dict) -> tuple[int, int, int]:
    return shapes.conv_output_shape((28, 28, 1), values["count"], 3, values["stride"],
                                    values["padding"])


def run_mnist(values: dict) -> Outcome:
    from playground.datasets import mnist  # the arrays load on first use only
    try:
        (x_train, y_train), _test = mnist.load_mnist()
    except Exception as error:   # MnistUnavailable: no cache and no network
        return Outcome(error=_("MNIST is not available here: {reason}",
                               reason=str(error).splitlines()[0] if str(error) else
                               type(error).__name__))
    out = pipeline.mnist_maps(x_train[0], values["seed"], values["count"], 3, values["stride"],
                              values["padding"])
    maps = out["maps"]
    split = np.swapaxes(maps[None], 0, 3)
    return Outcome([
        Shown("picture", _("Training digit 0 (label {label})", label=int(y_train[0])),
              out["digit"]),
        Shown("maps", _("Feature maps"), maps,
              {"labels": [_("map {i}", i=i + 1) for i in range(maps.shape[2])]}),
        Shown("metric", _("After np.swapaxes"), str(split.shape)),
    ])


MNIST = Lesson(
    key="mnist_digit", title=N_("One MNIST digit through five filters"),
    paragraphs=(
        N_("Now a real picture: the first digit of the MNIST training set (a 5), reshaped to "
           "(−1, 28, 28, 1). Five random 3×3 filters (standard deviation 0.01) slide over it "
           "with stride 2 and SAME padding."),
        N_("SAME with stride 2 halves each side: 28 → ⌈28 / 2⌉ = 14. So the output is "
           "(1, 14, 14, 5), and after swapping axes five 14×14 maps. Random filters already "
           "show blurred and shifted versions of the digit; training turns them into useful "
           "detectors."),
    ),
    notes_code=("img = mnist.train.images[0].reshape(-1, 28, 28, 1)\n"
                "W1 = tf.Variable(tf.random_normal([3, 3, 1, 5], stddev=0.01))\n"
                "conv2d = tf.nn.conv2d(img, W1, strides=[1, 2, 2, 1], padding='SAME')\n"
                "conv2d_img = np.swapaxes(conv2d.eval(), 0, 3)   # (5, 14, 14, 1)"),
    keras_code=("(x_train, y_train), _ = keras.datasets.mnist.load_data()\n"
                "img = (x_train[0] / 255).reshape(-1, 28, 28, 1).astype('float32')\n"
                "W1 = tf.random.normal([3, 3, 1, 5], stddev=0.01)\n"
                "conv2d = tf.nn.conv2d(img, W1, strides=2, padding='SAME')   # (1, 14, 14, 5)"),
    task=N_("Reproduce the notes: five **14×14** maps, shape (5, 14, 14, 1) after swapping "
            "axes."),
    controls=(Control("count", N_("Number of filters"), "int", 3, 1, 8),
              Control("stride", N_("Stride S"), "int", 1, 1, 4),
              Control("padding", N_("Padding"), "choice", "same", choices=("valid", "same"),
                      labels=PADDING_LABELS),
              Control("seed", N_("Seed of the random filters"), "int", 0, 0, 1000)),
    run=run_mnist,
    check=lambda values: _digit_shape(values) == (14, 14, 5),
    lab=lambda values: _filter_lab_tab(MNIST_TAB),
    lab_title=N_("Filter Lab: MNIST digit"),
)

LESSONS = (WHY, OUTPUT_SIZE, DEPTH, TOY_LESSON, SAME, THREE, POOL, DETECT, MNIST)
