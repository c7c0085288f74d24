"""Real browser: Debian's Chromium drives `streamlit run`; change an input on the Shape Lab and
read the new output shape (and the link that now carries it)."""
from __future__ import annotations

import re

import pytest

from conftest import wait_for_app


@pytest.mark.browser
def test_changing_input_height_changes_the_output_shape(page, streamlit_server):
    page.goto(f"{streamlit_server}/shape_lab")
    # The server's first run imports plotly, pandas and pyarrow: slow on a busy 2-core machine.
    wait_for_app(page, timeout=120_000)
    value = page.get_by_test_id("stMetricValue").first
    value.wait_for(timeout=120_000)
    assert value.inner_text().strip() == "2 × 2 × 1"

    height = page.get_by_label("Input height H")
    height.fill("7")
    height.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stMetricValue\"]')"
        ".innerText.trim() === '6 × 2 × 1'", timeout=60_000)
    page.wait_for_url(re.compile(r"[?&]h=7"), timeout=10_000)
    # the sliding-window figure was drawn by plotly in the page
    assert page.locator(".js-plotly-plot").count() >= 1
