"""The Model Inspector on colour models and any number of classes (issue 11): a tiny 32×32×3
four-class CNN saved and loaded through the real code, its predictions, layer outputs, saliency
and Grad-CAM compared with Keras / TensorFlow directly; photos centre-cropped and resized with
Pillow's own result as the reference; class names from a run's dataset.json or a labels file;
the page driven through its upload boxes and a saved run on the generated shapes.
"""
from __future__ import annotations

import io
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from test_inspector_page import page_errors, plotly_titles

from playground.core import runs
from playground.datasets import load_dataset, to_float
from playground.inspector import data, explain, loading, preprocess
from tests.helpers import app_test, save_run

SHAPES = "shapes"   # the generated 32×32×3 set of four classes, always there
SHAPE_NAMES = ("circle", "square", "triangle", "star")
RUN_ID = "20261203-120000-c0f0e0"


def colour_model(activation="softmax") -> keras.Model:
    keras.utils.set_random_seed(7)
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(4, activation=activation, name="dense")], name="colour")


@pytest.fixture(scope="module")
def colour_file(tmp_path_factory):
    """The colour CNN after a few steps on the generated shapes, saved as .keras."""
    model = colour_model()
    shapes = load_dataset(SHAPES)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(to_float(shapes.x_train[:512]), shapes.y_train[:512], batch_size=64, epochs=2,
              verbose=0)
    path = tmp_path_factory.mktemp("colour") / "colour.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def loaded(colour_file):
    return loading.load_model_bytes(colour_file.read_bytes(), "colour.keras")


@pytest.fixture(scope="module")
def pictures():
    shapes = load_dataset(SHAPES)
    return to_float(shapes.x_test[:8]), shapes.y_test[:8]


def photo(size=(120, 90), seed=0) -> np.ndarray:
    """A wide colour photo (H=90, W=120): smooth colour ramps plus noise, uint8."""
    w, h = size
    rows, cols = np.mgrid[0:h, 0:w]
    rgb = np.stack([cols / w, rows / h, 0.5 + 0.5 * np.sin(cols / 7.0)], axis=-1)
    rgb += np.random.default_rng(seed).normal(0, 0.05, rgb.shape)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- loading

def test_colour_model_loads_with_its_shape_and_classes(loaded, colour_file):
    assert explain.input_shape(loaded) == (32, 32, 3)
    assert tuple(loaded.outputs[0].shape[1:]) == (4,)
    reference = keras.models.load_model(colour_file)
    for a, b in zip(loaded.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_colour_model_as_h5_loads_too(loaded, tmp_path):
    again = loading.load_model_bytes(loading.model_file_bytes(loaded, "h5"), "colour.h5")
    x = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(explain.predict(again, x), explain.predict(loaded, x), atol=1e-7)


@pytest.mark.parametrize("shape,classes", [((64, 48, 3), 2), ((28, 28, 1), 5),
                                           ((16, 16, 1), 37)])
def test_any_picture_size_and_class_count_is_shown(tmp_path, shape, classes):
    model = keras.Sequential([keras.Input(shape), keras.layers.Conv2D(2, 3),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(classes, activation="softmax")])
    path = tmp_path / "any.keras"
    model.save(path)
    got = loading.load_model_bytes(path.read_bytes())
    x = np.random.default_rng(2).random(shape).astype(np.float32)
    np.testing.assert_allclose(explain.predict(got, x), model.predict(x[None], verbose=0)[0],
                               atol=1e-6)
    assert explain.explain(got, x)["saliency"].shape == shape[:2]


@pytest.mark.parametrize("model_fn,message", [
    (lambda: keras.Sequential([keras.Input((32, 32, 4)), keras.layers.Flatten(),
                               keras.layers.Dense(3)]), "32×32×4, not 32×32×1 or 32×32×3"),
    (lambda: keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(),
                               keras.layers.Dense(3)]), "4 to 1024 pixels"),
    (lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                               keras.layers.Dense(1, activation="sigmoid")]), "2 to 1000"),
])
def test_pictures_the_inspector_cannot_feed_get_a_message(tmp_path, model_fn, message):
    path = tmp_path / "bad.keras"
    model_fn().save(path)
    with pytest.raises(loading.ModelError, match=message):
        loading.load_model_bytes(path.read_bytes())


# --------------------------------------------------------------------------- forward passes

def test_layer_outputs_and_prediction_equal_keras(loaded, pictures):
    x = pictures[0][0]
    outputs = explain.layer_outputs(loaded, x)
    assert [o.shape for _, o in outputs] == [(32, 32, 6), (16, 16, 6), (14, 14, 8), (1568,),
                                             (4,)]
    h = tf.constant(x[None])
    for layer, (_, output) in zip(loaded.layers, outputs):
        h = layer(h, training=False)
        np.testing.assert_allclose(output, h.numpy()[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explain.predict(loaded, x),
                               loaded.predict(x[None], verbose=0)[0], atol=1e-6)
    with pytest.raises(ValueError, match="32×32×3"):
        explain.predict(loaded, np.zeros((32, 32), np.float32))


def reference_maps(model, picture, class_index):
    """Saliency, Grad-CAM and HiResCAM written independently: a twin with linear outputs
    (the logits), a TensorFlow tape, tf.image.resize."""
    twin = colour_model(activation=None)
    twin.set_weights(model.get_weights())
    x = tf.constant(picture[None])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        maps = twin.layers[0](x)
        h = twin.layers[1](maps)
        maps = twin.layers[2](h)       # the last conv layer
        h = twin.layers[4](twin.layers[3](maps))
        score = h[0, class_index]
    grad_x = tape.gradient(score, x).numpy()[0]
    grad_maps = tape.gradient(score, maps).numpy()[0]
    saliency = np.abs(grad_x).max(axis=-1)
    activations = maps.numpy()[0]

    def up(cam):
        cam = tf.image.resize(cam[None, ..., None], (32, 32), method="bilinear").numpy()
        cam = np.maximum(cam[0, ..., 0], 0)
        return cam / cam.max() if cam.max() > 0 else cam

    return (saliency / saliency.max(),
            up(np.maximum((activations * grad_maps.mean(axis=(0, 1))).sum(-1), 0)),
            up(np.maximum((activations * grad_maps).sum(-1), 0)))


@pytest.mark.parametrize("index,class_index", [(0, None), (1, 2), (2, 3)])
def test_saliency_grad_cam_hirescam_on_colour_pictures_equal_tensorflow(loaded, pictures,
                                                                        index, class_index):
    x = pictures[0][index]
    result = explain.explain(loaded, x, class_index)
    expected = int(loaded.predict(x[None], verbose=0).argmax()) if class_index is None \
        else class_index
    assert result["class_index"] == expected and result["grad_cam_layer"] == "conv2"
    saliency, cam, hires = reference_maps(loaded, x, expected)
    for key in ("saliency", "grad_cam", "hires_cam"):
        assert result[key].shape == (32, 32) and result[key].dtype == np.float32
    np.testing.assert_allclose(result["saliency"], saliency, atol=1e-5)
    np.testing.assert_allclose(result["grad_cam"], cam, atol=0.02)
    np.testing.assert_allclose(result["hires_cam"], hires, atol=0.02)
    with pytest.raises(ValueError, match="0..3"):
        explain.explain(loaded, x, 4)


# --------------------------------------------------------------------------- pre-processing

@pytest.mark.parametrize("size,target", [((120, 90), (32, 32)), ((90, 120), (32, 32)),
                                         ((200, 50), (24, 48)), ((32, 32), (32, 32))])
def test_fit_picture_is_pillows_centre_crop_and_resize(size, target):
    image = photo(size)
    h, w = target
    got = preprocess.fit_picture(image, (h, w, 3))
    assert got.shape == (h, w, 3) and got.dtype == np.float32
    box = preprocess.crop_box(image.shape[0], image.shape[1], (h, w))
    assert (box[2] - box[0]) * h == pytest.approx((box[3] - box[1]) * w)
    reference = np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.LANCZOS,
                                                         box=box), np.float32) / 255.0
    # Pillow's 8-bit resize rounds after each of its two passes: up to 2 levels apart.
    np.testing.assert_allclose(got, reference, atol=2.5 / 255)
    gray = preprocess.fit_picture(image, (h, w, 1))
    reference = np.asarray(Image.fromarray(image).convert("L").resize(
        (w, h), Image.Resampling.LANCZOS, box=box), np.float32) / 255.0
    np.testing.assert_allclose(gray[..., 0], reference, atol=2.5 / 255)


def test_fit_picture_keeps_the_centre_and_refuses_bad_shapes():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, 100:200] = 255                    # a white square in the middle of a wide photo
    got = preprocess.fit_picture(image, (10, 10, 3))
    assert got[2:8, 2:8].min() > 0.99          # only the middle square is left
    with pytest.raises(ValueError, match="H×W×1 or H×W×3"):
        preprocess.fit_picture(image, (10, 10, 2))
    with pytest.raises(ValueError, match="non-empty"):
        preprocess.fit_picture(np.zeros((0, 5), np.uint8), (10, 10, 3))


# --------------------------------------------------------------------------- class names

def test_labels_file_gives_cleaned_names():
    text = "cat\r\ndog\n<b>bird</b>\n[link](http://x)\n   spaced   out  \n\n\n".encode()
    assert data.parse_labels(text, 5) == ("cat", "dog", "_b_bird_/b_", "_link_(http_//x)",
                                          "spaced out")
    assert data.parse_labels("\ufeffchat\nélan\n猫".encode("utf-8")) == ("chat", "élan", "猫")
    assert data.parse_labels(b"a\n\n" + b"x" * 100) == ("a", "class 1", "x" * 40)


@pytest.mark.parametrize("payload,expected,message", [
    (b"", None, "empty"),
    (b"\n\n  \n", None, "no class names"),
    (b"a\x00b\n", None, "not text"),
    ("é".encode("latin-1"), None, "not UTF-8"),
    (b"a\nb\nc\n", 4, "names 3 classes but the model has 4"),
    (b"x\n" * 1001, None, "limit is 1000"),
    (b"x" * (65 * 1024), None, "limit is 64 KB"),
])
def test_bad_labels_files_get_a_one_line_message(payload, expected, message):
    with pytest.raises(ValueError, match=message) as err:
        data.parse_labels(payload, expected)
    assert "\n" not in str(err.value)


def test_run_data_reads_dataset_json_and_falls_back_to_mnist(colour_file):
    save_run(colour_file, runs.runs_dir(), RUN_ID)
    assert data.run_data(RUN_ID) == data.MNIST          # older runs have no dataset.json
    folder = runs.run_path(RUN_ID)
    runs.write_json(folder / "dataset.json", {"name": SHAPES, "title": "Coloured shapes",
                                              "class_names": list(SHAPE_NAMES),
                                              "input_shape": [32, 32, 3]})
    assert data.run_data(RUN_ID) == data.ModelData(SHAPES, "Coloured shapes", SHAPE_NAMES,
                                                   (32, 32, 3))
    (folder / "dataset.json").write_text("{not json")
    assert data.run_data(RUN_ID) == data.MNIST
    runs.write_json(folder / "dataset.json", {"name": "x", "class_names": "abc",
                                              "input_shape": [32, 32, 3]})
    assert data.run_data(RUN_ID) == data.MNIST
    assert data.run_data("../../etc") == data.MNIST


def test_default_names_and_digit_models():
    assert data.default_class_names(10) == tuple("0123456789")
    assert data.default_class_names(3) == ("class 0", "class 1", "class 2")
    assert data.is_digit_model((28, 28, 1), data.default_class_names(10))
    assert not data.is_digit_model((28, 28, 1), ("T-shirt/top",) + ("x",) * 9)
    assert not data.is_digit_model((32, 32, 3), data.default_class_names(10))
    assert data.matching_datasets((32, 32, 3), 4) == [SHAPES]
    assert set(data.matching_datasets((28, 28, 1), 10)) == {"mnist", "fashion_mnist"}


# --------------------------------------------------------------------------- the page

def upload(at, colour_file, labels: bytes | None = None):
    at.radio(key="model_source").set_value("Upload a .keras or .h5 file").run()
    at.file_uploader(key="model_upload").set_value(
        ("colour.keras", colour_file.read_bytes(), "application/octet-stream")).run()
    if labels is not None:
        at.file_uploader(key="labels_upload").set_value(("labels.txt", labels,
                                                         "text/plain")).run()
    return at


def test_page_inspects_an_uploaded_colour_model(colour_file, loaded):
    at = upload(app_test("inspector", timeout=120), colour_file)
    assert not page_errors(at)
    # Its pictures fit the generated shapes: a test picture is shown, no drawing canvas.
    assert at.radio(key="input_source").options == ["Test picture", "Upload a photo"]
    titles = plotly_titles(at)
    shapes = load_dataset(SHAPES)
    expected = explain.predict(loaded, to_float(shapes.x_test[:1])[0])
    best = int(expected.argmax())
    prediction, = [t for t in titles if t.startswith("Prediction:")]
    assert prediction.startswith(f"Prediction: class {best} ({100 * expected[best]:.1f} %)")
    assert prediction.endswith(f"true label class {int(shapes.y_test[0])}")
    assert "Input (32×32×3)" in titles
    assert any(t.startswith("Saliency") for t in titles)
    assert any(t.startswith("Grad-CAM on conv2") for t in titles)
    assert any(t.startswith("HiResCAM on conv2") for t in titles)
    arrows = [t.value.split("⬇")[1].split("·")[0].strip() for t in at.text if "⬇" in t.value]
    assert arrows == ["32×32×6", "16×16×6", "14×14×8", "1568", "4"]


def test_page_uses_the_labels_file_and_a_colour_photo(colour_file, loaded):
    at = upload(app_test("inspector", timeout=120), colour_file, b"ball\nbox\nroof\nsun\n")
    assert not page_errors(at)
    at.radio(key="input_source").set_value("Upload a photo").run()
    assert any("32×32 in colour" in info.value for info in at.info)
    image = photo()
    at.file_uploader(key="photo_upload").set_value(("p.png", png(image), "image/png")).run()
    assert not page_errors(at)
    titles = plotly_titles(at)
    assert "Centre-cropped and resized to 32×32 (RGB)" in titles
    expected = explain.predict(loaded, preprocess.fit_picture(image, (32, 32, 3)))
    names = ("ball", "box", "roof", "sun")
    assert any(t.startswith(f"Prediction: {names[int(expected.argmax())]} (") for t in titles)
    options = at.selectbox(key="explain_class").options
    assert [o.replace(" (predicted)", "") for o in options] == list(names)
    # A labels file that does not fit: one message, the model is still shown with numbers.
    at.file_uploader(key="labels_upload").set_value(("l.txt", b"a\nb\n", "text/plain")).run()
    assert [e.value for e in at.error] == ["The class names cannot be used: the labels file "
                                           "names 2 classes but the model has 4 outputs"]
    assert any(t.startswith("Prediction: class ") for t in plotly_titles(at))


def test_page_on_a_saved_colour_run_uses_its_classes_and_test_pictures(colour_file, loaded):
    save_run(colour_file, runs.runs_dir(), RUN_ID)
    runs.write_json(runs.run_path(RUN_ID) / "dataset.json",
                    {"name": SHAPES, "title": "Coloured shapes (generated)",
                     "class_names": list(SHAPE_NAMES), "input_shape": [32, 32, 3]})
    at = app_test("inspector", timeout=120, query={"run": RUN_ID, "picture": "5"})
    assert not page_errors(at)
    shapes = load_dataset(SHAPES)
    expected = explain.predict(loaded, to_float(shapes.x_test[5:6])[0])
    prediction, = [t for t in plotly_titles(at) if t.startswith("Prediction:")]
    assert prediction.startswith(f"Prediction: {SHAPE_NAMES[int(expected.argmax())]} (")
    assert prediction.endswith(f"true label {SHAPE_NAMES[int(shapes.y_test[5])]}")
    at.number_input(key="digit_index").set_value(7).run()
    assert at.query_params["picture"] == "7"
    assert any(t.endswith(f"true label {SHAPE_NAMES[int(shapes.y_test[7])]}")
               for t in plotly_titles(at))
    # The last layer's bars carry the class names; the first layer's filters are RGB pictures.
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = [s for s in specs if s.get("layout", {}).get("title", {}).get("text", "")
            .startswith("dense: 4 values")]
    assert bars and list(bars[0]["data"][0]["x"]) == list(SHAPE_NAMES)
    assert any(d.get("type") == "image" for s in specs for d in s["data"]
               if s.get("layout", {}).get("title", {}).get("text", "").startswith("its 6"))


def test_page_grayscale_non_digit_model_gets_plain_resizing_and_its_test_pictures(tmp_path):
    """A 28×28×1 model named with Fashion-MNIST's classes is no digit model: no MNIST recipe,
    Fashion-MNIST's test pictures, a canvas in the data's colours."""
    from playground.datasets import dataset_entry

    names = dataset_entry("fashion_mnist").class_names
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.Flatten(), keras.layers.Dense(10,
                                                                         activation="softmax")])
    path = tmp_path / "fashion.h5"
    model.save(path)
    at = app_test("inspector", timeout=120)
    at.radio(key="model_source").set_value("Upload a .keras or .h5 file").run()
    at.file_uploader(key="model_upload").set_value(("fashion.h5", path.read_bytes(),
                                                    "application/octet-stream")).run()
    at.file_uploader(key="labels_upload").set_value(
        ("labels.txt", "\n".join(names).encode(), "text/plain")).run()
    assert not page_errors(at)
    assert at.radio(key="input_source").options == ["Test picture", "Draw", "Upload a photo"]
    fashion = load_dataset("fashion_mnist")
    expected = model.predict(to_float(fashion.x_test[:1]), verbose=0)[0]
    prediction, = [t for t in plotly_titles(at) if t.startswith("Prediction:")]
    shown = [data.clean_class_name(name, i) for i, name in enumerate(names)]
    assert prediction.startswith(f"Prediction: {shown[int(expected.argmax())]} (")
    assert prediction.endswith(f"true label {shown[int(fashion.y_test[0])]}")
    at.radio(key="input_source").set_value("Upload a photo").run()
    at.file_uploader(key="photo_upload").set_value(("p.png", png(photo()), "image/png")).run()
    assert not page_errors(at)
    assert "Centre-cropped and resized to 28×28 (grayscale)" in plotly_titles(at)
    at.radio(key="input_source").set_value("Draw").run()
    assert not page_errors(at)
    assert any(info.value == "Draw on the canvas." for info in at.info)
