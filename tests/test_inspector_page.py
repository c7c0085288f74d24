"""The Model Inspector page: AppTest runs of the script, and a real browser on `streamlit run`."""
from __future__ import annotations

import io
import json

import keras
import numpy as np
import pytest
from PIL import Image
from test_inspector import lambda_model_file, stroke_digit

from playground.core import runs
from playground.training import models
from tests.helpers import app_test, save_run, wait_for_app

RUN_ID = "20261122-120000-abcdef"


@pytest.fixture
def saved_run(tiny_model_file):
    """A saved run in this test's PLAYGROUND_RUNS_DIR (set by conftest for every test)."""
    return save_run(tiny_model_file, runs.runs_dir(), RUN_ID)


def plotly_titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        if isinstance(title, dict) and title.get("text"):
            titles.append(title["text"])
    return titles


def page_errors(at) -> list[str]:
    return [e.value for e in at.error] + [str(e.value) for e in at.exception]


def test_page_without_saved_runs_says_how_to_get_one():
    at = app_test("inspector")
    assert not at.exception
    assert any("No saved run yet" in info.value for info in at.info)
    assert any("Live Training" in str(link.proto) for link in at.get("page_link"))


def test_page_shows_prediction_pipeline_explanations_and_summary(saved_run):
    at = app_test("inspector")
    assert not page_errors(at)
    titles = plotly_titles(at)
    prediction = [t for t in titles if t.startswith("Prediction:")]
    assert len(prediction) == 1 and "true label 7" in prediction[0]   # test digit 0 is a 7
    # One block per Keras layer, in order, with shape and min/max written between them.
    model = models.build_model("Course CNN (2 conv)")
    headers = [m.value for m in at.markdown if m.value.startswith("**")]
    assert [h.split("**")[1].split(". ", 1)[1] for h in headers] == \
        [layer.name for layer in keras.models.load_model(
            runs.run_path(saved_run) / "model.keras").layers]
    arrows = [t.value for t in at.text if "⬇" in t.value]
    assert [a.split("⬇")[1].split("·")[0].strip() for a in arrows] == \
        ["28×28×32", "14×14×32", "14×14×64", "7×7×64", "3136", "10"]
    assert any(t.startswith("Saliency") for t in titles)
    assert any(t.startswith("Grad-CAM on") for t in titles)
    assert any(t.startswith("HiResCAM on") for t in titles)
    summary = at.dataframe[0].value
    assert list(summary["parameters"]) == [layer.count_params() for layer in model.layers]
    assert list(summary["Shape Lab parameters"]) == list(summary["parameters"])


def test_page_follows_the_picked_test_digit(saved_run):
    at = app_test("inspector")
    at.number_input(key="digit_index").set_value(1).run()   # test digit 1 is a 2
    assert not page_errors(at)
    assert any(t.startswith("Prediction:") and "true label 2" in t for t in plotly_titles(at))
    assert at.query_params["digit"] == "1"


def digit_png(dark_on_light=True) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(stroke_digit(dark_on_light=dark_on_light)).convert("RGB").save(
        buffer, format="PNG")
    return buffer.getvalue()


def test_page_photo_upload_shows_original_and_preprocessed(saved_run):
    at = app_test("inspector")
    at.radio(key="input_source").set_value("Upload a photo").run()
    assert any("Upload a photo" in info.value for info in at.info)
    at.file_uploader(key="photo_upload").set_value(("digit.png", digit_png(), "image/png")).run()
    assert not page_errors(at)
    titles = plotly_titles(at)
    assert "Your photo" in titles and "Pre-processed like MNIST (28×28)" in titles
    assert any(t.startswith("Prediction:") for t in titles)


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_page_bad_photos_get_a_message_and_the_page_keeps_working(saved_run):
    at = app_test("inspector")
    at.radio(key="input_source").set_value("Upload a photo").run()
    for payload, message in [(b"not an image at all", "not a picture"),
                             (b"", "empty"),
                             (np.zeros((40, 40), np.uint8).tobytes(), "not a picture"),
                             (digit_png()[:60], "truncated"),          # truncated PNG
                             (blank_png(), "blank")]:
        at.file_uploader(key="photo_upload").set_value(("x.png", payload, "image/png")).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (message, [e.value for e in at.error])
    at.file_uploader(key="photo_upload").set_value(("ok.png", digit_png(), "image/png")).run()
    assert not page_errors(at)
    assert any(t.startswith("Prediction:") for t in plotly_titles(at))


def test_page_draw_without_a_drawing_asks_for_one(saved_run):
    at = app_test("inspector")
    at.radio(key="input_source").set_value("Draw").run()
    assert not page_errors(at)
    assert any("Draw a digit" in info.value for info in at.info)


def upload_model(at, payload: bytes):
    at.radio(key="model_source").set_value("Upload a .keras or .h5 file").run()
    at.file_uploader(key="model_upload").set_value(("model.keras", payload,
                                                    "application/octet-stream")).run()
    return at


def test_page_upload_a_lambda_model_is_refused(tmp_path):
    at = upload_model(app_test("inspector"), lambda_model_file(tmp_path).read_bytes())
    assert not at.exception
    assert any("Lambda layer" in e.value for e in at.error)
    assert not any(t.startswith("Prediction:") for t in plotly_titles(at))


def test_page_upload_of_a_non_model_gets_a_message():
    at = app_test("inspector")
    for payload, message in [(b"just some text renamed to model.keras", "not a Keras model"),
                             (b"", "empty"),
                             (digit_png(), "not a Keras model")]:
        upload_model(at, payload)
        assert not at.exception
        assert any(message in e.value for e in at.error), (message, [e.value for e in at.error])


def test_page_upload_wrong_input_shape_gets_a_message(tmp_path):
    # Two channels: neither grayscale nor RGB (a 32×32×3 classifier is inspected, issue 11).
    path = tmp_path / "two_channels.keras"
    keras.Sequential([keras.Input((28, 28, 2)), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")]).save(path)
    at = upload_model(app_test("inspector"), path.read_bytes())
    assert not at.exception
    assert any("not 28×28×1" in e.value for e in at.error)


def test_page_upload_a_good_model_is_inspected(tiny_model_file):
    at = upload_model(app_test("inspector"), tiny_model_file.read_bytes())
    assert not page_errors(at)
    assert any(t.startswith("Prediction:") for t in plotly_titles(at))


# --------------------------------------------------------------------------- real browser

@pytest.mark.browser
def test_browser_test_digit_shows_ten_probability_bars_and_a_clicked_map(
        page, streamlit_server, server_runs_dir, tiny_model_file):
    from playwright.sync_api import expect

    run_id = save_run(tiny_model_file, server_runs_dir, "20261122-120001-abcdef")
    page.goto(f"{streamlit_server}/inspector?run={run_id}&input=Test+digit&digit=0")
    wait_for_app(page)
    page.wait_for_selector("text=Prediction:", timeout=90_000)
    bars_chart = page.locator(".stPlotlyChart").filter(has_text="Prediction:")
    # While a rerun lands Streamlit may briefly show the stale chart beside the new one.
    expect(bars_chart.locator("g.trace.bars path")).to_have_count(10, timeout=60_000)
    assert "true label 7" in bars_chart.inner_text()
    assert page.locator("text=Traceback").count() == 0

    # Another test digit: the bars follow it.
    page.get_by_role("button", name="Random digit").click()
    wait_for_app(page)
    page.wait_for_selector("text=Prediction:", timeout=90_000)
    expect(page.locator(".stPlotlyChart").filter(has_text="Prediction:")
           .locator("g.trace.bars path")).to_have_count(10, timeout=60_000)

    # Click feature map 3 of the first conv layer: it and its filter appear large.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wait_for_app(page)
    maps = page.locator(".stPlotlyChart").filter(has_text="feature maps (click one)").first
    marker = maps.locator("g.scatterlayer path.point").nth(3)
    marker.wait_for(state="attached", timeout=90_000)
    maps.scroll_into_view_if_needed()
    for _ in range(3):  # a rerun may redraw the chart under the pointer; click again then
        box = marker.bounding_box()
        if box:
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_selector("text=feature map 3 of", timeout=30_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_selector("text=feature map 3 of", timeout=60_000)
    page.wait_for_selector("text=filter 3:", timeout=90_000)


@pytest.mark.browser
def test_browser_drawing_on_the_canvas_gives_a_prediction(
        page, streamlit_server, server_runs_dir, tiny_model_file):
    run_id = save_run(tiny_model_file, server_runs_dir, "20261122-120002-abcdef")
    page.goto(f"{streamlit_server}/inspector?run={run_id}&input=Draw")
    wait_for_app(page)
    page.wait_for_selector("text=Draw a digit on the canvas", timeout=90_000)
    # Fabric draws on two stacked canvases; the upper one takes the mouse. (The summary
    # table below is a canvas too, hence the scoping.)
    canvas = page.locator(".canvas-root canvas").last
    box = canvas.bounding_box()
    assert box["width"] >= 250
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + 80, y0 + 60)
    page.mouse.down()
    for x, y in [(200, 60), (170, 120), (140, 180), (120, 230)]:  # a "7"
        page.mouse.move(x0 + x, y0 + y, steps=8)
    page.mouse.up()
    # Plotly draws its titles itself: slow on a busy 2-core machine, hence the long waits.
    page.wait_for_selector("text=What the network sees", timeout=90_000)
    page.wait_for_selector("text=Prediction:", timeout=90_000)
    assert page.locator("text=Traceback").count() == 0


@pytest.mark.browser
def test_browser_lambda_model_upload_is_refused_and_the_page_keeps_working(
        page, streamlit_server, tmp_path, tiny_model_file):
    page.goto(f"{streamlit_server}/inspector")
    wait_for_app(page)
    # The first run of the page in a fresh server imports TensorFlow: allow a busy machine.
    page.get_by_text("Upload a .keras or .h5 file", exact=True).click(timeout=120_000)
    wait_for_app(page)
    dropzone = page.get_by_test_id("stFileUploaderDropzoneInput")
    dropzone.set_input_files(str(lambda_model_file(tmp_path)))
    page.wait_for_selector("text=Lambda layer", timeout=90_000)
    assert page.locator("text=Traceback").count() == 0
    # The same box then takes a good model.
    good = tmp_path / "good.keras"
    good.write_bytes(tiny_model_file.read_bytes())
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(good))
    page.wait_for_selector("text=Prediction:", timeout=90_000)
    assert page.locator("text=Lambda layer").count() == 0
