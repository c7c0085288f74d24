"""The Live Training page headless (AppTest): settings, bad input, a short run from start to
results, and re-attaching to a run by the id in the URL. run_every does not fire in AppTest, so
the tests call at.run() in a loop."""
from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from playground.core import network, runs
from tests.helpers import APP, ROOT

TINY = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]}


def training_page(**query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(str(ROOT / "pages" / "training.py"))
    at.run()
    return at


def array_length(values) -> int:
    """Length of a plotly data array: a list, or numpy's {"dtype", "bdata"} base64 form."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def start_button(at):
    return next(b for b in at.button if b.label == "Start training")


def charts_by_title(at) -> dict:
    found = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        found[chart.proto.id] = spec
    return found


def test_page_opens_with_the_settings_form():
    at = training_page()
    assert not at.exception
    assert at.title[0].value == "Live Training"
    assert at.selectbox(key="preset").value == "Fast MNIST CNN"
    assert "32×32×3 image, six 5×5 filters" not in at.selectbox(key="preset").options
    assert start_button(at)
    assert {s.label for s in at.selectbox} >= {"Network", "Optimizer"}


def test_a_bad_spec_in_the_url_gives_a_one_line_error_and_no_traceback():
    at = training_page(spec="{not json")
    assert at.selectbox(key="preset").value == "Custom network (spec JSON)"
    start_button(at).click()
    at.run()
    assert not at.exception
    assert any("Cannot start: spec is not valid JSON" in e.value for e in at.error)


def test_a_bad_setting_in_the_url_is_ignored_with_a_warning():
    at = training_page(epochs="many", batch_size="64", preset="Course CNN (2 conv)")
    assert not at.exception
    assert any("epochs must be an integer" in w.value for w in at.warning)
    assert at.number_input(key="bs-Course CNN (2 conv)").value == 64
    assert at.number_input(key="ep-Course CNN (2 conv)").value == 15


@pytest.mark.slow
def test_start_a_short_run_watch_it_live_and_see_the_results():
    at = training_page(spec=network.to_json(TINY), train_examples="300", epochs="2",
                       batch_size="10")
    start_button(at).click()
    at.run()
    assert not at.exception
    run_id = at.query_params["job"][0] if isinstance(at.query_params["job"], list) \
        else at.query_params["job"]
    settings = runs.read_json(runs.run_path(run_id) / "settings.json")
    assert (settings["train_examples"], settings["epochs"], settings["batch_size"]) == \
        (300, 2, 10)
    loss_points, saw_filters = [], False
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        status = [m.value for m in at.markdown if f"Run `{run_id}`" in m.value]
        for spec in charts_by_title(at).values():
            titles = [a.get("text") for a in spec["layout"].get("annotations", [])]
            if "loss" in titles and spec["data"]:
                loss_points.append(array_length(spec["data"][1]["x"]))
            title = (spec["layout"].get("title") or {}).get("text") or ""
            if title.startswith("first-layer filters"):
                saw_filters = True
        if status and ("finished" in status[0] or "failed" in status[0]):
            break
    assert status and "finished" in status[0], status
    assert saw_filters
    assert loss_points and max(loss_points) > min(loss_points), loss_points
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%")
    assert not at.exception

    # A refreshed page (a new session) with the job id in the URL shows the same run.
    again = training_page(job=run_id)
    assert not again.exception
    assert any(f"Run `{run_id}`" in m.value for m in again.markdown)
    assert "Test accuracy" in {m.label for m in again.metric}


def test_an_unknown_run_id_in_the_url_is_explained():
    at = training_page(job="20990101-000000-abcdef")
    assert not at.exception
    assert any("no run with the id" in w.value for w in at.warning)


def test_past_runs_table_shows_user_text_as_text_never_html():
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "settings.json", {"preset": "<script>alert(1)</script>",
                                               "optimizer": "Adam", "learning_rate": 1.5})
    runs.write_json(folder / "status.json", {"status": "finished"})
    (folder / "model.keras").write_bytes(b"")   # listed runs are those with a model file
    at = training_page()
    assert not at.exception
    table = next(frame for frame in at.dataframe if "network" in frame.value.columns)
    assert list(table.value["network"]) == ["<script>alert(1)</script>"]
    assert not any("<script>" in m.value for m in at.markdown)
