"""The pretrained MNIST model that ships with the playground: its file, its metadata, its
accuracy measured again with Keras, and the Model Inspector showing it on a first visit."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from playground.core import network
from playground.datasets import mnist
from playground.inspector import loading, pretrained
from playground.training import settings as training_settings
from tests.helpers import ROOT, app_test


@pytest.fixture(scope="module")
def info():
    return pretrained.pretrained_info()


@pytest.fixture(scope="module")
def model():
    return pretrained.pretrained_model()


def test_the_file_is_small_and_the_metadata_describes_it(info):
    payload = pretrained.MODEL_PATH.read_bytes()
    assert len(payload) <= 1024 * 1024
    assert info["size_bytes"] == len(payload)
    assert info["sha256"] == hashlib.sha256(payload).hexdigest()
    assert info["file"] == pretrained.MODEL_PATH.name
    # The command that makes it again names a script that is there, with the seed it used.
    script = info["command"].split()[1]
    assert (ROOT / script).is_file() and script == "scripts/train_pretrained.py"
    assert info["seed"] == 0 and "--seed" not in info["command"]


def test_the_metadata_spec_is_the_default_preset_with_its_recipe(info):
    preset = training_settings.DEFAULT_PRESET
    assert info["preset"] == preset
    expected = network.preset(preset)
    expected.pop("description")
    assert network.validate(info["spec"]) == network.validate(expected)
    assert info["recipe"] == {**training_settings.training_defaults(preset), "seed": 0}
    assert info["class_names"] == [str(d) for d in range(10)]


def test_the_loaded_model_is_the_spec_of_the_metadata(info, model):
    found = network.spec_from_model(model)
    assert found is not None
    spec, _ = found
    assert spec["layers"] == network.validate(info["spec"])["layers"]
    assert tuple(spec["input_shape"]) == (28, 28, 1)
    assert model.count_params() == info["parameters"] == network.total_params(info["spec"])
    assert pretrained.pretrained_model() is model          # one shared copy per process
    assert pretrained.load_pretrained() is not model


def test_test_accuracy_measured_again_matches_the_metadata(info, model):
    """All 10,000 test digits through Keras: the figure the README and the page show."""
    x_test, y_test = mnist.float_test_set()
    predicted = np.argmax(model.predict(x_test, batch_size=1000, verbose=0), axis=1)
    accuracy = float(np.mean(predicted == y_test))
    assert accuracy == pytest.approx(info["test_accuracy"], abs=0.001)
    assert accuracy >= 0.985


def test_the_script_writes_a_model_and_metadata_that_agree(tmp_path):
    """scripts/train_pretrained.py end to end, shortened (1 epoch on 1,000 digits): the file
    loads through the safe loader, and its metadata's spec, size and accuracy are its own."""
    out = tmp_path / "quick.keras"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_pretrained.py"),
                             "--epochs", "1", "--train-examples", "1000", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert info["train_examples"] == 1000 and info["recipe"]["epochs"] == 1
    assert info["command"] == ("python scripts/train_pretrained.py --epochs 1 "
                               "--train-examples 1000")
    assert info["size_bytes"] == out.stat().st_size
    model = loading.load_model_file(out)
    assert network.spec_from_model(model)[0]["layers"] == network.validate(info["spec"])["layers"]
    x_test, y_test = mnist.float_test_set()
    accuracy = float(np.mean(np.argmax(model.predict(x_test, batch_size=1000, verbose=0),
                                       axis=1) == y_test))
    assert accuracy == pytest.approx(info["test_accuracy"], abs=0.001)


def test_a_missing_or_broken_file_gives_a_one_line_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "MODEL_PATH", tmp_path / "absent.keras")
    monkeypatch.setattr(pretrained, "INFO_PATH", tmp_path / "absent.json")
    pretrained._info.cache_clear()
    try:
        assert not pretrained.pretrained_available()
        with pytest.raises(pretrained.PretrainedUnavailable, match="scripts/train_pretrained"):
            pretrained.pretrained_info()
        with pytest.raises(pretrained.PretrainedUnavailable, match="scripts/train_pretrained"):
            pretrained.load_pretrained()
        (tmp_path / "absent.json").write_text("{not json", encoding="utf-8")
        pretrained._info.cache_clear()
        with pytest.raises(pretrained.PretrainedUnavailable, match="cannot be read"):
            pretrained.pretrained_info()
        (tmp_path / "absent.keras").write_bytes(b"PK\x03\x04 not a zip at all")
        with pytest.raises(pretrained.PretrainedUnavailable, match="cannot be loaded"):
            pretrained.load_pretrained()
    finally:
        pretrained._info.cache_clear()


def test_the_inspector_shows_the_pretrained_model_on_a_first_visit(info):
    """No saved run, no upload: the pretrained model at once, with how to train one's own."""
    at = app_test("inspector", timeout=120)
    assert not at.exception and not at.error
    assert at.radio(key="model_source").value == pretrained_label()
    assert any("No saved run yet" in box.value for box in at.info)
    captions = " ".join(c.value for c in at.caption)
    assert f"{100 * info['test_accuracy']:.2f} % test accuracy" in captions
    titles = [json.loads(chart.proto.spec).get("layout", {}).get("title", {}).get("text", "")
              for chart in at.get("plotly_chart")]
    assert any(title.startswith("Prediction:") for title in titles)


def pretrained_label() -> str:
    from playground.i18n import _

    return _("The pretrained MNIST model")
