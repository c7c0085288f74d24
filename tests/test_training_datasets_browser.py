"""Beyond MNIST in a real browser: a short Fashion-MNIST run to its results named by class, and
a run on an uploaded two-class zip of pictures."""
from __future__ import annotations

import re

import pytest

from playground.datasets import fashion_mnist
from tests.helpers import wait_for_app
from tests.test_dataset_zip import make_zip, picture


@pytest.mark.browser
@pytest.mark.slow
def test_a_short_fashion_mnist_run_shows_results_named_by_class(page, streamlit_server):
    page.goto(f"{streamlit_server}/training?dataset=fashion_mnist&train_examples=600"
              "&epochs=1&batch_size=50")
    wait_for_app(page)
    page.get_by_text("10 classes: T-shirt/top, Trouser").wait_for(timeout=30_000)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**job=*", timeout=60_000)
    assert "dataset=fashion_mnist" in page.url
    page.get_by_text("Test accuracy").first.wait_for(timeout=240_000)
    page.get_by_text("predicted class").first.wait_for(timeout=60_000)
    # The "get one and predict" verdict names a kind of clothing.
    verdict = page.locator('[data-testid="stMarkdownContainer"] p',
                           has_text=re.compile(r"^Prediction ")).first
    verdict.wait_for(timeout=60_000)
    assert any(name in verdict.inner_text() for name in fashion_mnist.CLASS_NAMES)
    assert "Traceback" not in page.content()


@pytest.mark.browser
@pytest.mark.slow
def test_a_run_on_an_uploaded_two_class_zip(page, streamlit_server, tmp_path):
    files = {f"reds/{i}.png": picture((220, 20 + 5 * i, 30)) for i in range(10)}
    files.update({f"blues/{i}.png": picture((20, 30 + 5 * i, 220)) for i in range(10)})
    archive = tmp_path / "colours.zip"
    archive.write_bytes(make_zip(files))
    page.goto(f"{streamlit_server}/training?dataset=pictures&epochs=2&batch_size=4")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(archive))
    page.get_by_text("Training pictures per class: blues 8, reds 8").wait_for(timeout=60_000)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**job=*", timeout=60_000)
    page.get_by_text("Test accuracy").first.wait_for(timeout=240_000)
    verdict = page.locator('[data-testid="stMarkdownContainer"] p',
                           has_text=re.compile(r"^Prediction ")).first
    verdict.wait_for(timeout=60_000)
    assert "reds" in verdict.inner_text() or "blues" in verdict.inner_text()
    assert "Traceback" not in page.content()
