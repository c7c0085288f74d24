"""Model Inspector core: MNIST-style pre-processing, layer outputs, saliency, safe loading.

Layer outputs, saliency and Grad-CAM are compared with an independent TensorFlow computation;
the summary table's Shape Lab numbers with Keras' own.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageDraw
from scipy import ndimage

from playground.core import network, runs
from playground.datasets import mnist
from playground.inspector import explain, loading, preprocess
from playground.training import models
from tests.helpers import TINY_PRESET, save_run


@pytest.fixture(scope="session")
def tiny_model(tiny_model_file) -> keras.Model:
    return loading.load_model_file(tiny_model_file)


@pytest.fixture(scope="session")
def test_digits():
    (_, _), (x_test, y_test) = mnist.load_mnist()
    return x_test[:50].astype(np.float32) / 255.0, y_test[:50]


# --------------------------------------------------------------------------- pre-processing

def stroke_digit(size=(120, 90), box=(30, 20, 80, 70), width=9, dark_on_light=False):
    """A '7'-like digit drawn with Pillow: (H, W) uint8, ink 255 on 0 unless dark_on_light."""
    w, h = size
    left, top, right, bottom = box
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    draw.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=255,
              width=width)
    arr = np.asarray(img)
    return 255 - arr if dark_on_light else arr


def centre_and_box(digit):
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    return (ndimage.center_of_mass(digit),
            (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))


@pytest.mark.parametrize("size,box,width", [
    ((120, 90), (30, 20, 80, 70), 9),        # in the middle
    ((300, 200), (5, 5, 60, 50), 6),         # small, in the top-left corner
    ((200, 300), (100, 180, 190, 290), 12),  # bottom-right corner, tall canvas
    ((64, 64), (10, 10, 54, 30), 4),         # wide and flat
    ((40, 400), (5, 20, 35, 390), 5),        # thin and tall: height is the long side
    ((28, 28), (6, 4, 22, 24), 2),           # already MNIST-sized
])
def test_preprocess_shifted_scaled_digit_ends_centred_by_mass_in_20px_box(size, box, width):
    digit = preprocess.preprocess_digit(stroke_digit(size, box, width))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    (row, col), (height, wide) = centre_and_box(digit)
    # Where MNIST's digits have their centre of mass: pixel index (14, 14).
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5, (row, col)
    assert max(height, wide) <= 20 and max(height, wide) >= 19, (height, wide)


def test_preprocess_detects_dark_on_light_and_inverts():
    light = preprocess.preprocess_digit(stroke_digit(dark_on_light=False))
    dark = preprocess.preprocess_digit(stroke_digit(dark_on_light=True))
    np.testing.assert_allclose(dark, light, atol=1e-6)
    assert dark[0, 0] == 0.0 and dark.max() == pytest.approx(1.0, abs=0.05)


def test_preprocess_grey_paper_photo_becomes_black_background():
    ink = stroke_digit().astype(np.float32) / 255.0
    photo = 0.8 - 0.6 * ink + np.random.default_rng(0).normal(0, 0.02, ink.shape)
    rgb = np.repeat(np.clip(photo, 0, 1)[..., None], 3, axis=2)
    digit = preprocess.preprocess_digit((rgb * 255).astype(np.uint8))
    assert digit[:3].max() == 0.0 and digit[:, :3].max() == 0.0
    reference = preprocess.preprocess_digit(stroke_digit())
    assert np.corrcoef(digit.ravel(), reference.ravel())[0, 1] > 0.95


def canvas_rgba(stroke=(0, 0, 0), background_alpha=0, background=(255, 255, 255)):
    """What st_canvas returns: (280, 280, 4) uint8 with the stroke drawn over a background."""
    mask = stroke_digit((280, 280), (60, 50, 220, 230), 20) > 0
    out = np.zeros((280, 280, 4), np.uint8)
    out[..., :3] = background
    out[..., 3] = background_alpha
    out[mask, :3] = stroke
    out[mask, 3] = 255
    return out


@pytest.mark.parametrize("stroke,background_alpha,background", [
    ((0, 0, 0), 0, (0, 0, 0)),            # black ink on a transparent canvas
    ((0, 0, 0), 255, (255, 255, 255)),    # black ink on an opaque white canvas (the page's)
    ((255, 255, 255), 0, (0, 0, 0)),      # white ink on a transparent canvas
    ((255, 255, 255), 255, (0, 0, 0)),    # white ink on black
    ((20, 40, 200), 255, (250, 250, 240)),  # blue pen on cream paper
])
def test_preprocess_rgba_canvas_drawing(stroke, background_alpha, background):
    digit = preprocess.preprocess_digit(canvas_rgba(stroke, background_alpha, background))
    reference = preprocess.preprocess_digit(stroke_digit((280, 280), (60, 50, 220, 230), 20))
    assert np.corrcoef(digit.ravel(), reference.ravel())[0, 1] > 0.99
    (row, col), _ = centre_and_box(digit)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


@pytest.mark.parametrize("convert", [
    lambda a: a,                                        # uint8 (H, W)
    lambda a: a.astype(np.float32) / 255.0,             # float in [0, 1]
    lambda a: a.astype(np.float64),                     # float on the 0..255 scale
    lambda a: a[..., None],                             # (H, W, 1)
    lambda a: np.repeat(a[..., None], 3, axis=2),       # RGB
    lambda a: np.stack([a, np.full_like(a, 255)], -1),  # gray + alpha
    lambda a: a.astype(np.uint16) * 257,                # 16-bit
    lambda a: a > 127,                                  # bool
])
def test_preprocess_accepts_every_image_layout(convert):
    digit = preprocess.preprocess_digit(convert(stroke_digit()))
    reference = preprocess.preprocess_digit(stroke_digit())
    assert np.corrcoef(digit.ravel(), reference.ravel())[0, 1] > 0.95


def test_preprocess_mnist_digit_moved_and_enlarged_comes_back_and_keeps_its_class(
        tiny_model, test_digits):
    x, y = test_digits
    same = 0
    for digit in x[:20]:
        big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((84, 84),
                                                                                Image.BICUBIC))
        canvas = np.zeros((150, 130), np.uint8)
        canvas[40:124, 10:94] = big                       # off-centre and 3× larger
        back = preprocess.preprocess_digit(255 - canvas)   # and dark-on-light
        # MNIST placed digits by whole pixels (their centres of mass spread ±0.5 px around
        # (14, 14)), so ours may sit one pixel off the original: compare the best of ±1 px.
        best = max(np.corrcoef(np.roll(back, (i, j), (0, 1)).ravel(), digit.ravel())[0, 1]
                   for i in (-1, 0, 1) for j in (-1, 0, 1))
        assert best > 0.9
        assert np.corrcoef(back.ravel(), digit.ravel())[0, 1] > 0.7
        same += int(explain.predict(tiny_model, back).argmax()
                    == explain.predict(tiny_model, digit).argmax())
    assert same >= 17


@pytest.mark.parametrize("image,message", [
    (np.zeros((50, 50), np.uint8), "blank"),
    (np.full((50, 50), 255, np.uint8), "blank"),
    (np.full((50, 50, 3), 128, np.uint8), "blank"),
    (np.zeros((50, 50, 4), np.uint8), "blank"),                  # a cleared canvas
    (np.zeros((0, 10), np.uint8), "non-empty"),
    (np.zeros((10, 10, 5), np.uint8), "(H, W)"),
    (np.zeros((2, 3, 4, 5), np.uint8), "(H, W)"),
    (np.full((10, 10), np.nan), "NaN"),
    (np.zeros((1, 100), np.uint8), "too small"),
])
def test_preprocess_refuses_blank_or_malformed_images(image, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        preprocess.preprocess_digit(image)


def test_decode_photo_applies_exif_rotation_and_refuses_non_images():
    img = Image.fromarray(stroke_digit())           # 120 wide, 90 high
    exif = Image.Exif()
    exif[0x0112] = 6                                 # "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, format="JPEG", exif=exif)
    photo = preprocess.decode_photo(buffer.getvalue())
    assert photo.shape[:2] == (120, 90)
    for bad in (b"", b"hello, not a picture", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20):
        with pytest.raises(ValueError):
            preprocess.decode_photo(bad)


# --------------------------------------------------------------------------- layer outputs

@pytest.mark.parametrize("preset", ["Course CNN (2 conv)", "Course deep CNN (3 conv)"])
def test_layer_outputs_shapes_and_values_equal_keras(preset, test_digits):
    keras.utils.set_random_seed(1)
    model = models.build_model(preset)
    digit = test_digits[0][3]
    outputs = explain.layer_outputs(model, digit)
    assert [name for name, _ in outputs] == [layer.name for layer in model.layers]
    x = digit.reshape(1, 28, 28, 1)
    h = tf.constant(x)
    for layer, (_, output) in zip(model.layers, outputs):
        assert output.shape == tuple(layer.output.shape[1:])
        h = layer(h, training=False)   # the same layers, called one by one in TensorFlow
        np.testing.assert_allclose(output, h.numpy()[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[-1][1], model.predict(x, verbose=0)[0], atol=1e-6)


def test_layer_outputs_accepts_every_digit_layout(tiny_model, test_digits):
    digit = test_digits[0][0]
    reference = explain.layer_outputs(tiny_model, digit)[-1][1]
    for x in (digit[..., None], digit.reshape(1, 28, 28, 1)):
        np.testing.assert_allclose(explain.layer_outputs(tiny_model, x)[-1][1], reference)
    with pytest.raises(ValueError, match="28"):
        explain.layer_outputs(tiny_model, np.zeros((32, 32)))


def test_layer_outputs_of_dropout_are_the_identity_at_inference(test_digits):
    model = models.build_model("Course deep CNN (3 conv)")
    outputs = explain.layer_outputs(model, test_digits[0][0])
    for (_before, a), (name, b) in zip(outputs, outputs[1:]):
        if name.startswith("dropout"):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- saliency, Grad-CAM

def logits_model(model: keras.Model) -> keras.Model:
    """The same network with the final softmax removed (same weights): outputs the logits."""
    spec = network.preset(TINY_PRESET)
    spec["layers"][-1]["activation"] = None
    twin = models.build_model(spec)
    twin.set_weights(model.get_weights())
    return twin


def reference_saliency_and_cam(model, digit, class_index):
    """Written independently of the inspector: TF gradient tape, tf.image.resize."""
    twin = logits_model(model)
    x = tf.constant(digit.reshape(1, 28, 28, 1))
    conv = [i for i, layer in enumerate(twin.layers) if isinstance(layer, keras.layers.Conv2D)][-1]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        h = x
        for i, layer in enumerate(twin.layers):
            h = layer(h)
            if i == conv:
                maps = h
        score = h[0, class_index]
    grad_x = tape.gradient(score, x).numpy()[0, ..., 0]
    grad_maps = tape.gradient(score, maps).numpy()[0]
    saliency = np.abs(grad_x) / np.abs(grad_x).max()
    cam = np.maximum((maps.numpy()[0] * grad_maps.mean(axis=(0, 1))).sum(-1), 0)
    cam = tf.image.resize(cam[None, ..., None], (28, 28), method="bilinear").numpy()[0, ..., 0]
    cam = np.maximum(cam, 0)
    hires = np.maximum((maps.numpy()[0] * grad_maps).sum(-1), 0)
    hires = tf.image.resize(hires[None, ..., None], (28, 28)).numpy()[0, ..., 0]
    hires = np.maximum(hires, 0)
    return (saliency, cam / cam.max() if cam.max() > 0 else cam,
            hires / hires.max() if hires.max() > 0 else hires)


@pytest.mark.parametrize("index,class_index", [(0, None), (1, None), (2, 3), (3, 9)])
def test_saliency_and_grad_cam_equal_tensorflow(tiny_model, test_digits, index, class_index):
    digit = test_digits[0][index]
    result = explain.explain(tiny_model, digit, class_index)
    expected_class = (int(tiny_model.predict(digit.reshape(1, 28, 28, 1), verbose=0).argmax())
                      if class_index is None else class_index)
    assert result["class_index"] == expected_class
    saliency, cam, hires = reference_saliency_and_cam(tiny_model, digit, expected_class)
    for got in (result["saliency"], result["grad_cam"], result["hires_cam"]):
        assert got.shape == digit.shape == (28, 28) and got.dtype == np.float32
        # Grad-CAM is 0 everywhere when no region raises the score (ReLU of the weighted sum).
        assert got.min() >= 0.0 and got.max() in (pytest.approx(1.0), 0.0)
    np.testing.assert_allclose(result["saliency"], saliency, atol=1e-5)
    np.testing.assert_allclose(result["grad_cam"], cam, atol=0.02)
    np.testing.assert_allclose(result["hires_cam"], hires, atol=0.02)
    if class_index is None:  # the predicted class has some support in the conv output
        assert result["hires_cam"].max() == pytest.approx(1.0)
    assert result["grad_cam_layer"] == tiny_model.layers[2].name
    np.testing.assert_array_equal(explain.saliency(tiny_model, digit, class_index),
                                  result["saliency"])


def test_grad_cam_of_a_model_without_conv_layers_is_refused(test_digits):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    assert explain.explain(model, test_digits[0][0])["grad_cam"] is None
    assert explain.saliency(model, test_digits[0][0]).shape == (28, 28)
    with pytest.raises(ValueError, match="no conv layer"):
        explain.grad_cam(model, test_digits[0][0])


def test_grad_cam_on_a_functional_model(test_digits):
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    result = explain.explain(model, test_digits[0][0])
    assert result["grad_cam"].shape == (28, 28) and result["saliency"].shape == (28, 28)


# --------------------------------------------------------------------------- loading models

def lambda_model_file(tmp_path) -> Path:
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t * 2.0),
                              keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "lambda.keras"
    model.save(path)
    return path


def test_safe_mode_refuses_a_lambda_layer_model(tmp_path):
    path = lambda_model_file(tmp_path)
    with pytest.raises(loading.ModelError, match="Lambda layer"):
        loading.load_model_file(path)
    with pytest.raises(loading.ModelError, match="safe mode"):
        loading.load_model_bytes(path.read_bytes())
    # The file itself is fine: only safe mode stops it.
    unsafe = keras.models.load_model(path, safe_mode=False)
    assert any(isinstance(layer, keras.layers.Lambda) for layer in unsafe.layers)


def test_config_naming_a_function_outside_keras_is_refused_without_calling_it(tmp_path,
                                                                              monkeypatch):
    """A hand-edited config.json that points an activation at os.system (CVE-2025-1550-like)."""
    path = tmp_path / "base.keras"
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")]).save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["config"]["activation"] = {
        "module": "os", "class_name": "function", "config": "system",
        "registered_name": "function"}
    members["config.json"] = json.dumps(config).encode()
    calls = []
    monkeypatch.setattr("os.system", lambda *args: calls.append(args))
    with pytest.raises(loading.ModelError, match="not part of Keras|could not load"):
        loading.load_model_bytes(zip_bytes(members))
    assert calls == []


def zip_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("payload,message", [
    (b"", "empty"),
    (b"this is a text file renamed model.keras\n", "not a Keras model"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a Keras model"),
    (b"PK\x03\x04 truncated zip", "not a Keras model"),
    (zip_bytes({"readme.txt": "hello"}), "no config.json"),
    (zip_bytes({"config.json": "{not json", "metadata.json": "{}"}), "could not load"),
    (zip_bytes({"config.json": json.dumps({"class_name": "Nope", "config": {}}),
                "metadata.json": "{}"}), "could not load|custom"),
])
def test_files_that_are_not_models_get_a_message(payload, message):
    with pytest.raises(loading.ModelError, match=message):
        loading.load_model_bytes(payload)


def test_oversized_upload_is_refused_before_loading(monkeypatch, tiny_model_file):
    monkeypatch.setattr(loading, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(loading.ModelError, match="limit"):
        loading.load_model_bytes(tiny_model_file.read_bytes())


# Any H×W×1 or H×W×3 picture and any number of classes is shown (issue 11): a 32×32×3 input
# and five classes are no longer wrong (tests/test_inspector_colour.py); two channels and an
# output of feature maps still are.
@pytest.mark.parametrize("model_fn,message", [
    (lambda: keras.Sequential([keras.Input((28, 28, 2)), keras.layers.Flatten(),
                               keras.layers.Dense(10, activation="softmax")]),
     "28×28×2, not 28×28×1"),
    (lambda: keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                               keras.layers.Dense(10, activation="softmax")]), "28×28, not"),
    (lambda: models.build_model("32×32×3 image, six 5×5 filters"), "outputs"),
])
def test_model_with_wrong_input_or_output_gets_a_message(tmp_path, model_fn, message):
    path = tmp_path / "wrong.keras"
    model_fn().save(path)
    with pytest.raises(loading.ModelError, match=message):
        loading.load_model_bytes(path.read_bytes())


def test_upload_is_written_to_a_temp_file_not_named_after_the_upload(monkeypatch,
                                                                     tiny_model_file):
    seen = []
    real = keras.models.load_model

    def spy(path, *args, **kwargs):
        seen.append((Path(path), kwargs.get("safe_mode")))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(keras.models, "load_model", spy)
    model = loading.load_model_bytes(tiny_model_file.read_bytes())
    assert isinstance(model, keras.Model)
    (path, safe_mode), = seen
    assert safe_mode is True
    assert path.name.startswith("inspector-upload-") and path.suffix == ".keras"
    assert not path.exists()  # removed after loading


def test_saved_run_loads_and_bad_run_ids_are_refused(tiny_model_file):
    run_id = save_run(tiny_model_file, runs.runs_dir())
    model = loading.load_run_model(run_id)
    assert tuple(model.inputs[0].shape[1:]) == (28, 28, 1)
    for bad in ("../../etc/passwd", "20261122-120000-abcdez", ""):
        with pytest.raises(loading.ModelError):
            loading.load_run_model(bad)
    with pytest.raises(loading.ModelError, match="no saved model"):
        loading.load_run_model("20261122-120000-000000")


# --------------------------------------------------------------------------- the summary table

@pytest.mark.parametrize("preset", list(network.PRESETS))
def test_summary_shape_lab_numbers_agree_with_keras(preset):
    model = models.build_model(preset)
    rows = network.model_summary(model)
    assert [row["layer"] for row in rows] == [layer.name for layer in model.layers]
    assert sum(row["parameters"] for row in rows) == model.count_params()
    compared = 0
    for row, layer in zip(rows, model.layers):
        assert row["output shape"] == "×".join(str(d) for d in layer.output.shape[1:])
        assert row["parameters"] == layer.count_params()
        if row["Shape Lab shape"] is not None:
            assert row["Shape Lab shape"] == row["output shape"]
            assert row["Shape Lab parameters"] == row["parameters"]
            compared += 1
    assert compared == len(network.validate(network.preset(preset))["layers"])


@pytest.mark.parametrize("preset", list(network.PRESETS))
def test_spec_from_model_gives_back_the_network_description(preset):
    spec = network.validate(network.preset(preset))
    found, index = network.spec_from_model(models.build_model(spec))
    assert found["input_shape"] == spec["input_shape"]

    def canonical(layer):  # Keras stores a pooling stride of None as the pool size
        if layer["type"].endswith("Pool2D") and layer["strides"] is None:
            return dict(layer, strides=layer["pool_size"])
        return layer

    assert [canonical(layer) for layer in found["layers"]] == \
        [canonical(layer) for layer in spec["layers"]]


def test_summary_of_a_model_the_shape_lab_cannot_describe_has_keras_numbers_only():
    # (BatchNormalization has a Shape Lab layer now; LayerNormalization has none.)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.LayerNormalization(), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    rows = network.model_summary(model)
    assert "Shape Lab shape" not in rows[0]
    assert [row["parameters"] for row in rows] == [40, 2 * 4, 0, 26 * 26 * 4 * 10 + 10]


def test_filters_are_the_conv_kernels(tiny_model):
    kernel, bias = explain.layer_filters(tiny_model, tiny_model.layers[2].name)
    weights, biases = tiny_model.layers[2].get_weights()
    assert kernel.shape == (64, 32, 3, 3)
    np.testing.assert_array_equal(kernel[5, 7], weights[:, :, 7, 5])
    np.testing.assert_array_equal(bias, biases)
    assert explain.layer_filters(tiny_model, tiny_model.layers[1].name) is None


@pytest.mark.parametrize("name,expected", [
    ("conv2d", "conv2d"),
    ("<a href='x'>evil</a>", "_a_href__x__evil__a_"),
    ("[link](http://x)", "_link__http___x_"),
])
def test_safe_name_keeps_only_plain_characters(name, expected):
    assert preprocess.safe_name(name) == expected


def test_feature_map_detail_of_conv_and_pool_layers_matches_tensorflow(tiny_model, test_digits):
    stages = explain.pipeline(tiny_model, test_digits[0][0])
    assert [name for name, _ in stages] == ["input"] + [layer.name for layer in tiny_model.layers]
    assert stages[0][1].shape == (28, 28, 1)
    (_, conv_in), (conv_name, conv_out), (pool_name, pool_out) = stages[2], stages[3], stages[4]
    detail = explain.feature_map_detail(tiny_model, conv_name, conv_out, 5, stages[2])
    weights, biases = tiny_model.get_layer(conv_name).get_weights()
    np.testing.assert_array_equal(detail["kernel"], weights[..., 5].transpose(2, 0, 1))
    assert detail["bias"] == pytest.approx(float(biases[5]))
    assert detail["source"] is None
    # Map 5 of the conv layer is relu(sum over channels of conv(input channel, slice) + bias).
    expected = tf.nn.relu(tf.nn.conv2d(conv_in[None], weights[..., 5:6], 1, "SAME")
                          + biases[5]).numpy()[0, ..., 0]
    np.testing.assert_allclose(detail["map"], expected, rtol=1e-4, atol=1e-5)
    pooled = explain.feature_map_detail(tiny_model, pool_name, pool_out, 5,
                                          (conv_name, conv_out))
    assert pooled["kernel"] is None and pooled["source_name"] == conv_name
    np.testing.assert_array_equal(pooled["source"], conv_out[..., 5])
    np.testing.assert_allclose(
        pooled["map"], tf.nn.max_pool2d(pooled["source"][None, ..., None], 2, 2, "SAME")
        .numpy()[0, ..., 0])
    with pytest.raises(ValueError, match="does not exist"):
        explain.feature_map_detail(tiny_model, pool_name, pool_out, 64)


def test_as_digit_scales_mnist_pixels(test_digits):
    (_, _), (x_test, _) = mnist.load_mnist()
    digit = preprocess.as_digit(x_test[0])
    assert digit.dtype == np.float32 and digit.max() == 1.0
    np.testing.assert_array_equal(digit, test_digits[0][0])
    with pytest.raises(ValueError, match="28×28"):
        preprocess.as_digit(np.zeros((10, 10), np.uint8))


def test_convnetjs_net_cropped_to_24px_is_inspected(test_digits):
    """The ConvNetJS net takes the centre 24×24 of a 28×28 digit (models.input_adapter)."""
    keras.utils.set_random_seed(2)
    model = models.build_model("ConvNetJS MNIST demo", data_shape=(28, 28, 1))
    assert loading.check_model(model) is model
    digit = test_digits[0][0]
    outputs = explain.layer_outputs(model, digit)
    assert [o.shape for _, o in outputs] == [tuple(layer.output.shape[1:])
                                             for layer in model.layers]
    assert outputs[0][1].shape == (24, 24, 1)
    np.testing.assert_array_equal(outputs[0][1][..., 0], digit[2:26, 2:26])
    rows = network.model_summary(model)
    assert rows[0]["type"] == "CenterCrop" and rows[0]["Shape Lab shape"] is None
    lab = [row for row in rows if row["Shape Lab shape"] is not None]
    assert all(row["Shape Lab shape"] == row["output shape"] and
               row["Shape Lab parameters"] == row["parameters"] for row in lab)
    assert len(lab) == len(network.PRESETS["ConvNetJS MNIST demo"]["layers"])
    result = explain.explain(model, digit)
    for key in ("grad_cam", "hires_cam"):
        cam = result[key]
        assert cam.shape == (28, 28)
        # The network never sees the 2-pixel frame the crop removes.
        assert cam[:2].max() == cam[-2:].max() == cam[:, :2].max() == cam[:, -2:].max() == 0
    assert result["saliency"][:2].max() == 0 and result["saliency"][:, -2:].max() == 0


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims width×height pixels (IHDR only, no pixel data)."""
    import struct
    import zlib

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _paper_digit() -> Image.Image:
    return Image.fromarray(stroke_digit(dark_on_light=True))


@pytest.mark.parametrize("name,payload", [
    ("8-bit gray PNG", lambda: _encoded(_paper_digit(), "PNG")),
    ("16-bit PNG", lambda: _encoded(Image.fromarray(
        stroke_digit(dark_on_light=True).astype(np.uint16) * 257), "PNG")),
    ("CMYK JPEG", lambda: _encoded(_paper_digit().convert("CMYK"), "JPEG")),
    # The paper (white, palette index 255 of a converted gray image) is the transparent part,
    # as in a scan saved with a transparent background; it is composited on white.
    ("palette with transparency", lambda: _encoded(_paper_digit().convert("P"), "PNG",
                                                   transparency=255)),
    ("animated GIF", lambda: _encoded(_paper_digit().convert("P"), "GIF", save_all=True,
                                      append_images=[Image.new("P", (120, 90))])),
    ("1-bit PNG", lambda: _encoded(_paper_digit().convert("1"), "PNG")),
    ("32-bit float TIFF", lambda: _encoded(_paper_digit().convert("F"), "TIFF")),
    ("gray + alpha PNG", lambda: _encoded(_paper_digit().convert("LA"), "PNG")),
])
def test_odd_but_valid_pictures_give_the_same_digit(name, payload):
    reference = preprocess.preprocess_digit(stroke_digit())
    digit = preprocess.preprocess_digit(preprocess.decode_photo(payload()))
    assert np.corrcoef(digit.ravel(), reference.ravel())[0, 1] > 0.95, name


@pytest.mark.parametrize("name,payload,message", [
    ("claims 30000×30000", lambda: _png_header(30_000, 30_000), "megapixels"),
    ("claims 7000×7000", lambda: _png_header(7_000, 7_000), "megapixels"),
    ("truncated PNG", lambda: _encoded(_paper_digit(), "PNG")[:100], "truncated"),
    ("SVG", lambda: b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
     "not a picture"),
    ("1×1", lambda: _encoded(Image.new("L", (1, 1)), "PNG"), "at least 8 pixels"),
    ("1×10000", lambda: _encoded(Image.new("L", (1, 10_000)), "PNG"), "at least 8 pixels"),
    ("all white", lambda: _encoded(Image.new("RGB", (50, 50), "white"), "PNG"), "blank"),
])
def test_hostile_pictures_get_a_one_line_message(name, payload, message):
    with pytest.raises(ValueError, match=message) as err:
        preprocess.preprocess_digit(preprocess.decode_photo(payload()))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("count,tile", [(32, (28, 28)), (64, (7, 7)), (6, (14, 14)), (1, (24, 24))])
def test_feature_map_mosaic_markers_sit_on_their_tiles(count, tile):
    from playground.charts import inspector as charts

    maps = np.random.default_rng(0).random(tile + (count,)).astype(np.float32)
    fig = charts.feature_maps_figure(maps, "maps")
    heatmap, markers = fig.data
    ncols = charts.grid_columns(count)
    assert list(markers.customdata) == list(range(count))
    grid = np.asarray(heatmap.z, dtype=np.float32)
    for j, (x, y) in enumerate(zip(markers.x, markers.y)):
        assert charts.tile_index(x, y, tile, ncols, count) == j
        # The heatmap cell under the marker holds a value of map j.
        row, col = int(y), int(x)
        r, c = row % (tile[0] + 1), col % (tile[1] + 1)
        assert grid[row, col] == pytest.approx(maps[r, c, j])
