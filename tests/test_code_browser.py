"""Real browser: paste the notes' Keras model into the Shape Lab's "Paste your code" box and see
Keras' own parameter count, 619,786, in the table's total."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import wait_for_app

NOTES_MODEL = Path(__file__).parent / "data" / "snippets" / "keras_sequential_mnist.py"
TOTAL = ("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
         ".some(e => e.innerText.trim() === '{}')")


@pytest.mark.browser
def test_pasting_the_notes_keras_model_shows_619786_parameters(page, streamlit_server):
    page.goto(f"{streamlit_server}/shape_lab")
    # The server's first run imports plotly, pandas and pyarrow: slow on a busy 2-core machine.
    wait_for_app(page, timeout=120_000)
    page.wait_for_function(TOTAL.format("50,186"), timeout=120_000)
    page.get_by_text("Paste your code", exact=False).first.click()
    box = page.get_by_label("Python code (read, never run)")
    box.fill(NOTES_MODEL.read_text())
    box.press("Control+Enter")  # commits the text area's value
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Read the code into the table").click()
    page.wait_for_function(TOTAL.format("619,786"), timeout=60_000)
    assert page.get_by_text("Read 10 layers into the table below.").is_visible()
    page.wait_for_function("() => window.location.search.includes('net=')", timeout=10_000)
