"""Real browser: Debian's Chromium drives `streamlit run`; change an input on the Shape Lab and
read the new output shape (and the link that now carries it)."""
from __future__ import annotations

import re

import pytest

from tests.helpers import wait_for_app


@pytest.mark.browser
def test_changing_input_height_changes_the_output_shape(page, streamlit_server):
    page.goto(f"{streamlit_server}/shape_lab")
    # The server's first run imports plotly, pandas and pyarrow: slow on a busy 2-core machine.
    wait_for_app(page, timeout=120_000)
    # Section 1's output shape by its label (the network's totals below are metrics too).
    value = page.get_by_test_id("stMetric").filter(has_text="Output shape").get_by_test_id(
        "stMetricValue")
    value.wait_for(timeout=120_000)
    assert value.inner_text().strip() == "2 × 2 × 1"

    height = page.get_by_label("Input height H")
    height.fill("7")
    height.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
        ".some(m => m.innerText.includes('Output shape') && m.querySelector("
        "'[data-testid=\"stMetricValue\"]').innerText.trim() === '6 × 2 × 1')",
        timeout=60_000)
    page.wait_for_url(re.compile(r"[?&]h=7"), timeout=10_000)
    # the sliding-window figure was drawn by plotly in the page
    assert page.locator(".js-plotly-plot").count() >= 1


@pytest.mark.browser
def test_editing_the_layer_table_updates_the_total_and_the_link(page, streamlit_server):
    page.goto(f"{streamlit_server}/shape_lab")
    wait_for_app(page, timeout=120_000)
    page.get_by_test_id("stMetricValue").nth(1).wait_for(timeout=120_000)
    editor = page.get_by_test_id("stDataFrame").first
    editor.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = editor.bounding_box()
    # First body cell (row 1, column "layer"), then one column right: "filters" of the first
    # Conv2D. Enter opens the cell's editor, a second Enter commits.
    page.mouse.click(box["x"] + 60, box["y"] + 35 + 17)
    for key in ("ArrowRight", "Enter", "Control+A"):
        page.wait_for_timeout(300)
        page.keyboard.press(key)
    page.keyboard.type("16")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    # 3x3x1x16+16 = 160, 3x3x16x64+64 = 9,280, dense 3136x10+10 = 31,370
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some(e => e.innerText.trim() === '40,810')", timeout=60_000)
    page.wait_for_function("() => window.location.search.includes('net=')", timeout=10_000)
    link = page.evaluate("() => window.location.href")
    page.goto(link)
    wait_for_app(page, timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some(e => e.innerText.trim() === '40,810')", timeout=60_000)
