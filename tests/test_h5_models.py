""".h5 models (the course's ``model.save('my_model.h5')``): round trips through the Inspector's
loader and download, and hostile files that are refused with a one-line message before Keras
sees them, nothing in them executed (issue 11).

Hostile files are made from real Keras saves with h5py: the model description (the
``model_config`` attribute) edited, weights pointing out of the file, truncated or renamed files.
"""
from __future__ import annotations

import base64
import json
import marshal
import os
import shutil
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from test_inspector_page import plotly_titles

from playground.core import network
from playground.inspector import explain, loading
from playground.training import models
from tests.helpers import app_test

MARKER_NAME = "EXECUTED"


def small_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((28, 28, 1)),
                             keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                             keras.layers.MaxPooling2D(name="pool"),
                             keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(10, activation="softmax", name="dense")])


@pytest.fixture(scope="module")
def h5_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("h5") / "my_model.h5"
    small_model().save(path)
    return path


def edited(source: Path, target: Path, edit) -> Path:
    """A copy of ``source`` whose model description went through ``edit(config)``."""
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        edit(config)
        handle.attrs["model_config"] = json.dumps(config)
    return target


def layer_config(config: dict, name: str) -> dict:
    return next(layer for layer in config["config"]["layers"]
                if layer["config"].get("name") == name)


def marker_code(marker: Path) -> str:
    """A function's bytecode that creates ``marker``, base64-encoded as tf.keras 2 wrote a
    Lambda's function into an .h5 file (``func_dump``)."""
    def payload(x):
        open(MARKER, "w").close()  # noqa: F821 - a global resolved where the code would run
        return x

    code = payload.__code__.replace(co_names=tuple(
        str(marker) if n == "MARKER" else n for n in payload.__code__.co_names))
    return base64.b64encode(marshal.dumps(code)).decode("ascii")


@pytest.fixture
def keras_spy(monkeypatch):
    """Records every path keras.models.load_model is asked to open (and still loads it)."""
    seen = []
    real = keras.models.load_model

    def spy(path, *args, **kwargs):
        seen.append((Path(path), kwargs.get("safe_mode")))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(keras.models, "load_model", spy)
    return seen


# --------------------------------------------------------------------------- round trips

def test_h5_upload_round_trip_predicts_what_keras_predicts(h5_file, keras_spy):
    model = loading.load_model_bytes(h5_file.read_bytes(), "my_model.h5")
    (path, safe_mode), = keras_spy
    assert safe_mode is True and path.suffix == ".h5"
    assert path.name.startswith("inspector-upload-") and not path.exists()
    reference = keras.models.load_model(h5_file, compile=False)
    x = np.random.default_rng(0).random((1, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(explain.predict(model, x), reference.predict(x, verbose=0)[0],
                               rtol=1e-6, atol=1e-7)
    assert [layer.name for layer in model.layers] == ["conv", "pool", "flatten", "dense"]


@pytest.mark.parametrize("kind", ["h5", "keras"])
def test_download_bytes_load_back_to_the_same_model(h5_file, kind):
    model = loading.load_model_file(h5_file)
    payload = loading.model_file_bytes(model, kind)
    assert payload.startswith(loading.HDF5_MAGIC if kind == "h5" else loading.ZIP_MAGIC)
    again = loading.load_model_bytes(payload, f"downloaded.{kind}")
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="kind"):
        loading.model_file_bytes(model, "pickle")


def test_hdf5_extension_is_read_as_h5(h5_file):
    assert isinstance(loading.load_model_bytes(h5_file.read_bytes(), "x.HDF5"), keras.Model)


# --------------------------------------------------------------------------- Keras itself

def test_keras_own_legacy_loader_refuses_a_tf_keras_2_lambda_in_safe_mode(h5_file, tmp_path):
    """The experiment behind loading.py's note: Keras 3.15's legacy H5 path honours safe_mode
    (Keras before 3.11.3 did not, CVE-2025-9905). The Inspector does not rely on it."""
    marker = tmp_path / MARKER_NAME
    path = edited(h5_file, tmp_path / "lambda.h5", lambda config: layer_config(
        config, "flatten").update(class_name="Lambda", config={
            "name": "flatten", "function": [marker_code(marker), None, None],
            "function_type": "lambda", "module": "__main__", "output_shape": None,
            "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}))
    with pytest.raises(ValueError, match="Lambda"):
        keras.models.load_model(path, safe_mode=True, compile=False)
    assert not marker.exists()


# --------------------------------------------------------------------------- hostile files

def _lambda_tf2(marker):
    def edit(config):
        layer_config(config, "flatten").update(class_name="Lambda", config={
            "name": "flatten", "function": [marker_code(marker), None, None],
            "function_type": "lambda", "module": "__main__", "output_shape": None,
            "output_shape_type": "raw", "output_shape_module": None, "arguments": {}})
    return edit


def _lambda_keras3(marker):
    def edit(config):
        layer_config(config, "flatten").update(class_name="Lambda", config={
            "name": "flatten", "arguments": {}, "function": {
                "class_name": "__lambda__", "config": {"code": marker_code(marker),
                                                       "defaults": None, "closure": None}}})
    return edit


def _lambda_named_os_system(marker):
    def edit(config):
        layer_config(config, "flatten").update(class_name="Lambda", config={
            "name": "flatten", "arguments": {}, "function": {
                "module": "os", "class_name": "function", "config": "system",
                "registered_name": "function"}})
    return edit


def _unknown_class(marker):
    def edit(config):
        layer = layer_config(config, "pool")
        layer.update(class_name="EvilPool", module="evil_package.layers",
                     registered_name="Custom>EvilPool")
    return edit


def _activation_os_system(marker):
    def edit(config):
        layer_config(config, "dense")["config"]["activation"] = {
            "module": "os", "class_name": "function", "config": "system",
            "registered_name": "function"}
    return edit


def _torch_wrapper(marker):
    def edit(config):
        layer_config(config, "pool").update(class_name="TorchModuleWrapper")
    return edit


def _huge_units(marker):
    def edit(config):
        layer_config(config, "dense")["config"]["units"] = 10 ** 9
    return edit


def _huge_input(marker):
    def edit(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 100_000, 100_000, 3]
    return edit


def _units_times_input(marker):
    """Each number within its own limit, the product not: ~40 M values into 60,000 units."""
    def edit(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 1000, 1000, 1]
        layer_config(config, "dense")["config"]["units"] = 60_000
    return edit


def _negative_filters(marker):
    def edit(config):
        layer_config(config, "conv")["config"]["filters"] = -4
    return edit


def _not_a_model(marker):
    def edit(config):
        config["class_name"] = "Dense"
    return edit


HOSTILE_DESCRIPTIONS = [
    ("Lambda, tf.keras 2 bytecode", _lambda_tf2, "Lambda layer"),
    ("Lambda, Keras 3 form", _lambda_keras3, "Lambda layer"),
    ("Lambda naming os.system", _lambda_named_os_system, "Lambda layer"),
    ("unknown class", _unknown_class, "not part of Keras"),
    ("activation os.system", _activation_os_system, "not part of Keras"),
    ("TorchModuleWrapper", _torch_wrapper, "runs code"),
    ("Dense units 10**9", _huge_units, "limit is 65,536"),
    ("input 100000×100000×3", _huge_input, "limit"),
    ("1000×1000 input into 60,000 units", _units_times_input, "parameters"),
    ("negative filters", _negative_filters, "negative"),
    ("a Dense, not a model", _not_a_model, "not a Keras model"),
]


@pytest.mark.parametrize("case,edit,message", HOSTILE_DESCRIPTIONS,
                         ids=[case for case, _, _ in HOSTILE_DESCRIPTIONS])
def test_hostile_description_is_refused_before_keras_sees_it(h5_file, tmp_path, keras_spy,
                                                             monkeypatch, case, edit, message):
    marker = tmp_path / MARKER_NAME
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    path = edited(h5_file, tmp_path / "hostile.h5", edit(marker))
    with pytest.raises(loading.ModelError, match=message) as err:
        loading.load_model_bytes(path.read_bytes(), "model.h5")
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
    assert keras_spy == []            # Keras never opened it
    assert not marker.exists() and calls == []


def _external_link(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        handle["model_weights/elsewhere"] = h5py.ExternalLink("/etc/hostname", "/")
    return target


def _external_storage(source: Path, target: Path) -> Path:
    """A dataset whose bytes are another file on this machine (the Inspector would draw them
    as filters)."""
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        handle.create_dataset("model_weights/conv/secret", shape=(4,), dtype="uint8",
                              external=[("/etc/hostname", 0, h5py.h5f.UNLIMITED)])
    return target


def _declared_huge_dataset(source: Path, target: Path) -> Path:
    """10**10 values declared, none stored: a few KB on disk, 40 GB when read."""
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        handle.create_dataset("model_weights/conv/huge", shape=(10 ** 10,), dtype="float32",
                              chunks=(1024,))
    return target


def _weights_only(source: Path, target: Path) -> Path:
    small_model().save_weights(target.with_name("w.weights.h5"))
    shutil.move(target.with_name("w.weights.h5"), target)
    return target


def _huge_description(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["padding"] = "x" * (3 * 1024 * 1024)
        handle.attrs["model_config"] = json.dumps(config)
    return target


HOSTILE_FILES = [
    ("external link", _external_link, "links"),
    ("external storage", _external_storage, "other files"),
    ("10**10 values declared", _declared_huge_dataset, "limit"),
    ("weights only", _weights_only, "no model description"),
    ("3 MB description", _huge_description, "limit"),
]


@pytest.mark.parametrize("case,make,message", HOSTILE_FILES,
                         ids=[case for case, _, _ in HOSTILE_FILES])
def test_hostile_hdf5_structure_is_refused(h5_file, tmp_path, keras_spy, case, make, message):
    path = make(h5_file, tmp_path / "hostile.h5")
    with pytest.raises(loading.ModelError, match=message) as err:
        loading.load_model_bytes(path.read_bytes(), "model.h5")
    assert "\n" not in str(err.value)
    assert keras_spy == []


def renamed_cases(h5_bytes: bytes, keras_bytes: bytes) -> list[tuple[str, bytes, str, str]]:
    """(case, payload, upload name, message): broken, foreign and renamed files."""
    return [
        ("truncated", h5_bytes[: len(h5_bytes) // 2], "model.h5", "damaged or truncated"),
        ("header only", h5_bytes[:600], "model.h5", "damaged or truncated"),
        ("not HDF5", b"just some text saved as model.h5\n" * 10, "model.h5",
         "not a Keras model"),
        ("empty", b"", "model.h5", "empty"),
        ("PNG named .h5", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "model.h5", "not a Keras model"),
        (".keras renamed .h5", keras_bytes, "model.h5", "rename it to .keras"),
        (".h5 renamed .keras", h5_bytes, "model.keras", "rename it to .h5"),
        ("other extension", h5_bytes, "model.pkl", ".keras or .h5"),
    ]


@pytest.fixture(scope="module")
def keras_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    small_model().save(path)
    return path.read_bytes()


def test_broken_and_renamed_files_get_a_one_line_message(h5_file, keras_bytes, keras_spy):
    for case, payload, name, message in renamed_cases(h5_file.read_bytes(), keras_bytes):
        with pytest.raises(loading.ModelError, match=message) as err:
            loading.load_model_bytes(payload, name)
        assert "\n" not in str(err.value), case
    assert keras_spy == []


# --------------------------------------------------------------------------- the estimate

@pytest.mark.parametrize("preset", list(network.PRESETS))
def test_parameter_estimate_of_a_description_equals_keras_count(preset, tmp_path):
    """The estimate that guards against absurd sizes reads the description alone: for every
    network the playground builds it is exactly Keras' own count (h5 and .keras configs)."""
    model = models.build_model(preset)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path) as handle:
        config = json.loads(handle.attrs["model_config"])
    assert loading.estimate_parameters(config)[0] == model.count_params()
    assert loading.estimate_parameters(json.loads(model.to_json()))[0] == model.count_params()


def test_parameter_estimate_of_a_functional_model_equals_keras_count():
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.SeparableConv2D(16, 3, strides=2)(h)
    h = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(5, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    assert loading.estimate_parameters(json.loads(model.to_json()))[0] == model.count_params()


# --------------------------------------------------------------------------- the page

def test_h5_files_through_the_inspector_model_box(h5_file, keras_bytes, tmp_path):
    """Every hostile .h5 through the real upload box: one message each, no traceback, no
    prediction; then a good .h5 is inspected."""
    h5_bytes = h5_file.read_bytes()
    payloads = [(case, payload, name)
                for case, payload, name, _ in renamed_cases(h5_bytes, keras_bytes)
                if name.endswith((".h5", ".keras"))]
    for case, edit, _ in HOSTILE_DESCRIPTIONS:
        path = edited(h5_file, tmp_path / f"{len(payloads)}.h5", edit(tmp_path / MARKER_NAME))
        payloads.append((case, path.read_bytes(), "model.h5"))
    for case, make, _ in HOSTILE_FILES:
        payloads.append((case, make(h5_file, tmp_path / f"{len(payloads)}.h5").read_bytes(),
                         "model.h5"))
    at = app_test("inspector", timeout=120)
    at.radio(key="model_source").set_value("Upload a .keras or .h5 file").run()
    for case, payload, name in payloads:
        at.file_uploader(key="model_upload").set_value(
            (name, payload, "application/octet-stream")).run()
        assert not at.exception, (case, [str(e.value)[:300] for e in at.exception])
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and "Traceback" not in errors[0], (case, errors)
        assert not any(t.startswith("Prediction:") for t in plotly_titles(at)), case
    assert not (tmp_path / MARKER_NAME).exists()
    at.file_uploader(key="model_upload").set_value(
        ("my_model.h5", h5_bytes, "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert any(t.startswith("Prediction:") for t in plotly_titles(at))
    assert [b.proto.label for b in at.get("download_button")] == ["Download as .keras",
                                                                   "Download as .h5"]
