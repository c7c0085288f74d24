"""Every odd or hostile file through every upload box: a clear message, never a traceback, and
the page still works afterwards (issue: robust under hostile input).

The picture corpus (tests/corpus.py, generated in memory) goes through the Filter Lab's picture
box and the Model Inspector's digit-photo box; the same files renamed ``.keras``, plus broken
and unsafe Keras archives, go through the Inspector's model box. One AppTest per box receives the
whole sequence, so a bad file that broke the page for the next upload would show. A
representative subset also goes through a real browser.
"""
from __future__ import annotations

import io
import json
import re
import urllib.request
import zipfile

import corpus
import pytest
from test_inspector import lambda_model_file
from test_inspector_page import RUN_ID, digit_png, plotly_titles

from playground.core import runs
from tests.helpers import app_test, save_run, wait_for_app


def _no_traceback(at) -> None:
    assert not at.exception, [str(e.value)[:300] for e in at.exception]


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


@pytest.fixture(scope="module")
def tiny_model_bytes(tiny_model_file) -> bytes:
    return tiny_model_file.read_bytes()


@pytest.fixture
def saved_run(tiny_model_bytes, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(tiny_model_bytes)
    return save_run(path, runs.runs_dir(), RUN_ID)


def test_corpus_is_large_enough():
    assert len(corpus.CASES) >= 40
    assert len(corpus.BAD) >= 20 and len(corpus.GOOD) >= 10


def test_every_corpus_file_through_the_filter_lab_picture_box():
    at = app_test("filter_lab", timeout=120)
    at.radio(key="fl_source").set_value("Upload").run()
    for case in corpus.CASES:
        at.file_uploader(key="fl_upload").set_value(
            (case.filename, case.data, "application/octet-stream")).run()
        _no_traceback(at)
        errors = _errors(at)
        if case.ok:
            assert errors == [], (case.name, errors)
        else:
            assert len(errors) == 1, (case.name, errors)
            assert case.message.lower() in errors[0].lower(), (case.name, errors)
            assert "\n" not in errors[0] and "Traceback" not in errors[0]
    # After all of that, a good picture still works.
    good = corpus.GOOD[0]
    at.file_uploader(key="fl_upload").set_value((good.filename, good.data, "image/png")).run()
    _no_traceback(at)
    assert _errors(at) == []


# Corpus verdicts about the Filter Lab's size limits (a 7×7 or 1×10000 picture), which a
# digit photo need not share: such a picture may be refused or may become a digit.
SIZE_ONLY = {"at least", "thin"}
PHOTO_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


def test_every_corpus_file_through_the_inspector_photo_box(saved_run):
    at = app_test("inspector", timeout=120)
    at.radio(key="input_source").set_value("Upload a photo").run()
    for case in corpus.CASES:
        # This box lists its extensions (the browser refuses others before uploading, and
        # Streamlit's server re-checks the name), so what is hostile here is the bytes.
        filename = case.filename if case.filename.lower().endswith(PHOTO_EXTENSIONS) \
            else case.filename + ".png"
        at.file_uploader(key="photo_upload").set_value(
            (filename, case.data, "application/octet-stream")).run()
        _no_traceback(at)
        errors = _errors(at)
        predicted = any(t.startswith("Prediction:") for t in plotly_titles(at))
        # A picture either becomes a digit and a prediction, or gets one message saying why
        # not (blank, unreadable, too large): never both, never neither.
        assert predicted != bool(errors), (case.name, errors)
        assert all("Traceback" not in e for e in errors)
        if not case.ok and case.message not in SIZE_ONLY:
            assert errors, (case.name, "a file that is no picture was accepted")
    at.file_uploader(key="photo_upload").set_value(("digit.png", digit_png(), "image/png")).run()
    _no_traceback(at)
    assert any(t.startswith("Prediction:") for t in plotly_titles(at))


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _hostile_models(tiny_model_bytes: bytes, lambda_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(tiny_model_bytes)) as archive:
        real = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(real["config.json"])
    evil = json.loads(json.dumps(config))
    evil["config"]["layers"][1]["module"] = "os"
    evil["config"]["layers"][1]["class_name"] = "system"
    wrong_shape = json.loads(json.dumps(config))
    wrong_shape["config"]["layers"][0]["config"]["batch_shape"] = [None, 32, 32, 3]
    cases = {f"{case.name} renamed .keras": case.data for case in corpus.CASES}
    cases.update({
        "empty zip": _zip({}),
        "zip of text": _zip({"readme.txt": b"hello"}),
        "config only, not json": _zip({"config.json": b"{not json", "metadata.json": b"{}"}),
        "truncated real model": tiny_model_bytes[: len(tiny_model_bytes) // 2],
        "config naming os.system": _zip(dict(real, **{"config.json": json.dumps(evil).encode()})),
        "input of 32x32x3": _zip(dict(real, **{"config.json":
                                               json.dumps(wrong_shape).encode()})),
        "model with a Lambda layer": lambda_bytes,
    })
    return cases


def test_hostile_files_through_the_inspector_model_box(tiny_model_bytes, tmp_path):
    lambda_bytes = lambda_model_file(tmp_path).read_bytes()
    at = app_test("inspector", timeout=120)
    at.radio(key="model_source").set_value("Upload a .keras or .h5 file").run()
    for name, payload in _hostile_models(tiny_model_bytes, lambda_bytes).items():
        at.file_uploader(key="model_upload").set_value(
            ("model.keras", payload, "application/octet-stream")).run()
        _no_traceback(at)
        errors = _errors(at)
        assert len(errors) == 1, (name, errors)
        assert "Traceback" not in errors[0]
        assert not any(t.startswith("Prediction:") for t in plotly_titles(at)), name
    at.file_uploader(key="model_upload").set_value(
        ("model.keras", tiny_model_bytes, "application/octet-stream")).run()
    _no_traceback(at)
    assert _errors(at) == []
    assert any(t.startswith("Prediction:") for t in plotly_titles(at))


BROWSER_SUBSET = ["zero_bytes", "svg", "png_truncated_half", "png_claiming_30000x30000",
                  "text_renamed_png", "one_by_10000"]


@pytest.mark.browser
def test_hostile_uploads_in_a_real_browser(page, streamlit_server, tmp_path):
    names = [n for n in BROWSER_SUBSET if any(c.name == n for c in corpus.CASES)]
    assert len(names) >= 5, names
    page.goto(streamlit_server + "/filter_lab")
    wait_for_app(page)
    page.get_by_text("Upload", exact=True).first.click()
    uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.wait_for(state="attached")
    for name in names:
        case = corpus.by_name(name)
        path = tmp_path / case.filename
        path.write_bytes(case.data)
        uploader.set_input_files(str(path))
        # The previous file's message stays until the rerun for this one lands: wait for ours.
        alert = page.locator('[data-testid="stAlertContentError"]').filter(
            has_text=re.compile(re.escape(case.message), re.IGNORECASE))
        alert.first.wait_for(timeout=60_000)
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "StreamlitAPIException" not in body
    good = corpus.GOOD[0]
    path = tmp_path / good.filename
    path.write_bytes(good.data)
    uploader.set_input_files(str(path))
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(state="detached",
                                                                      timeout=60_000)
    with urllib.request.urlopen(streamlit_server + "/_stcore/health", timeout=10) as reply:
        assert reply.status == 200
