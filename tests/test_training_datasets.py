"""The Live Training page beyond MNIST (AppTest): the data set picker and its address, presets
made for the data, your own pictures from a zip or from classes built on the page (hostile
zips through the real upload box), and a short run on an uploaded two-class zip from Start to
the results named by class."""
from __future__ import annotations

import time

import numpy as np
import pytest

from playground.core import runs
from playground.datasets import fashion_mnist
from playground.training import settings as training_settings
from tests.test_dataset_zip import make_zip, picture, two_classes
from tests.test_training_page import start_button, training_page


def _query(at, key):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_the_data_set_is_read_from_the_address_and_the_networks_follow_it():
    at = training_page(dataset="fashion_mnist")
    assert not at.exception
    assert at.selectbox(key="dataset").value == "fashion_mnist"
    assert at.selectbox(key="preset").value == "Fast Fashion-MNIST CNN"
    caption = next(c.value for c in at.caption if "training and" in c.value)
    assert "60,000 training and 10,000 test pictures of 28×28×1, 10 classes" in caption
    assert fashion_mnist.CLASS_NAMES[0] in caption
    assert "dataset-fashion-mnist" in caption  # how to get it offline


def test_choosing_a_data_set_puts_it_in_the_address_and_offers_only_networks_that_fit():
    at = training_page()
    assert at.selectbox(key="dataset").value == "mnist"
    assert _query(at, "dataset") is None  # the default keeps the address short
    at.selectbox(key="dataset").set_value("shapes").run()
    assert not at.exception
    assert _query(at, "dataset") == "shapes"
    options = at.selectbox(key="preset").options
    assert options[0] == "Fast colour CNN"
    assert set(options) == {"Fast colour CNN", "Course CIFAR-10 CNN",
                            training_settings.CUSTOM}
    assert at.number_input(key="n-Fast colour CNN-shapes").value == 10_000  # all it has
    assert at.number_input(key="probe-shapes").max == 1_999


def test_an_unknown_data_set_in_the_address_is_ignored_with_a_warning():
    at = training_page(dataset="imagenet")
    assert not at.exception
    assert at.selectbox(key="dataset").value == "mnist"
    assert any("dataset must be one of" in w.value for w in at.warning)


def test_a_network_for_other_pictures_gets_a_one_line_reason():
    at = training_page(dataset="shapes", spec='{"input_shape": [28, 28, 1], "layers": ['
                       '{"type": "Flatten"}, {"type": "Dense", "units": 4, '
                       '"activation": "softmax"}]}')
    assert at.selectbox(key="preset").value == training_settings.CUSTOM
    start_button(at).click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Cannot start: input_shape: the network expects 28×28×1 images but the data has 3 "
        "channel(s) (32×32×3)"]


def _pictures_page():
    at = training_page(dataset=training_settings.PICTURES)
    assert not at.exception
    assert any("Upload a zip" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Start training"]
    return at


def _upload_zip(at, data: bytes, name: str = "pets.zip"):
    at.file_uploader(key="own_zip").set_value((name, data, "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("files, message", [
    ({"cats/a.png": picture()}, "at least two classes"),
    ({"../cats/a.png": picture(), "dogs/b.png": picture()}, ".."),
    ({"cats/a.png": picture(), "cats/b.png": picture(), "dogs/x.txt": b"hello"}, "no pictures"),
    ({**two_classes(), "cats/inner.zip": b"PK\x03\x04"}, "archive"),
    ({**two_classes(n_dogs=2)}, "Too few pictures"),
])
def test_a_bad_zip_gets_one_line_and_the_page_keeps_working(files, message):
    at = _pictures_page()
    _upload_zip(at, make_zip(files))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message.lower() in errors[0].lower(), errors
    assert "\n" not in errors[0]
    _upload_zip(at, make_zip(two_classes()), "good.zip")
    assert not at.error
    assert at.selectbox(key="preset").value == "Fast colour CNN"


def test_not_a_zip_at_all_is_refused_in_one_line():
    at = _pictures_page()
    _upload_zip(at, b"\x89PNG\r\n\x1a\n" + bytes(100), "holiday.zip")
    assert len(at.error) == 1 and "zip" in at.error[0].value.lower()


def test_classes_built_on_the_page_become_a_data_set():
    at = _pictures_page()
    at.radio(key="own_source").set_value("Classes built here").run()
    at.text_input(key="own_name_0").set_value("apples")
    at.text_input(key="own_name_1").set_value("limes")
    at.file_uploader(key="own_files_0").set_value(
        [(f"a{i}.png", picture((220, 30 + i, 20)), "image/png") for i in range(6)])
    at.file_uploader(key="own_files_1").set_value(
        [(f"l{i}.png", picture((40, 200, 30 + i)), "image/png") for i in range(6)])
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    caption = next(c.value for c in at.caption if "Training pictures per class" in c.value)
    assert "apples 5" in caption and "limes 5" in caption and "2 test pictures" in caption
    # The same name twice is refused in one line.
    at.text_input(key="own_name_1").set_value("Apples").run()
    assert not at.exception
    assert any("Two classes are called" in e.value for e in at.error)


@pytest.mark.slow
def test_a_short_run_on_an_uploaded_two_class_zip(tmp_path):
    at = _pictures_page()
    at.select_slider(key="own_size").set_value(16)
    _upload_zip(at, make_zip(two_classes(n_cats=10, n_dogs=10)))
    preset = at.selectbox(key="preset").value
    at.number_input(key=f"ep-{preset}").set_value(1)
    at.number_input(key=f"bs-{preset}").set_value(4)
    start_button(at).click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = _query(at, "job")
    folder = runs.run_path(run_id)
    info = runs.read_json(folder / "dataset.json")
    assert info["name"] == training_settings.PICTURES
    assert info["class_names"] == ["cats", "dogs"] and info["input_shape"] == [16, 16, 3]
    with np.load(folder / "data.npz") as saved:
        assert saved["x_train"].shape == (16, 16, 16, 3)
        assert saved["x_test"].shape == (4, 16, 16, 3)
    deadline = time.time() + 240
    status = []
    while time.time() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        status = [m.value for m in at.markdown if f"Run `{run_id}`" in m.value]
        if status and ("finished" in status[0] or "failed" in status[0]):
            break
    assert status and "finished" in status[0], status
    at.run()
    assert "Test accuracy" in {m.label for m in at.metric}
    assert any(m.value.startswith("Prediction **cats**") or
               m.value.startswith("Prediction **dogs**") for m in at.markdown)


def _train_links(at):
    return [el.proto for el in at.get("link_button") if "Train this network" in el.proto.label]


@pytest.mark.parametrize("preset, dataset, title, also", [
    ("Course CNN (2 conv)", "mnist", "MNIST handwritten digits", "Fashion-MNIST clothes"),
    ("Course CIFAR-10 CNN", "cifar10", "CIFAR-10 colour photos", None),
])
def test_the_shape_labs_train_link_names_a_data_set_the_network_fits(preset, dataset, title,
                                                                     also):
    from urllib.parse import parse_qs, urlparse

    from tests.helpers import app_test
    at = app_test("shape_lab")
    at.selectbox(key="sl_preset").set_value(preset).run()
    assert not at.exception
    links = _train_links(at)
    assert len(links) == 1 and links[0].label == f"Train this network on {title}"
    query = parse_qs(urlparse(links[0].url).query)
    assert query["dataset"] == [dataset]
    also_captions = [c.value for c in at.caption if c.value.startswith("It also fits")]
    assert also_captions == ([f"It also fits {also} (pick it there)."] if also else [])
    # The link's page accepts it: the data set and the custom network are picked.
    training = training_page(dataset=dataset, spec=query["spec"][0])
    assert training.selectbox(key="dataset").value == dataset
    assert training.selectbox(key="preset").value == training_settings.CUSTOM
    assert not training.warning


def test_a_network_no_data_set_fits_gets_the_reason_instead_of_a_link():
    from tests.helpers import app_test
    at = app_test("shape_lab")
    at.selectbox(key="sl_preset").set_value("32×32×3 image, six 5×5 filters").run()
    assert not at.exception
    assert _train_links(at) == []
    from playground.core import network
    with pytest.raises(ValueError) as reason:
        training_settings.check_spec(network.preset("32×32×3 image, six 5×5 filters"))
    assert f"To train this network on a data set: {reason.value}" in [c.value for c in at.caption]
    assert "channel" in str(reason.value)
