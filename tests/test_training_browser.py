"""Live Training in a real browser: a short run on a small slice streams loss points into the
chart and changes the first-layer filter grid, and Stop is answered."""
from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from playground.core import network
from tests.helpers import TINY, wait_for_app

# plotly.js keeps the decoded arrays in _fullData (data holds numpy arrays as base64 "bdata").
CURVE_POINTS = """() => {
  const el = document.querySelector('.st-key-live_curves .js-plotly-plot');
  const trace = el && el._fullData && el._fullData[1];
  return trace && trace.x ? trace.x.length : -1;
}"""
FILTER_GRID = """() => {
  const el = document.querySelector('.st-key-live_filters .js-plotly-plot');
  const trace = el && el._fullData && el._fullData[0];
  return trace && trace.z ? JSON.stringify(Array.from(trace.z, row => Array.from(row))) : null;
}"""


def poll(page, script, until, timeout=240.0):
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = page.evaluate(script)
        if until(value):
            return value
        time.sleep(0.25)
    text = page.inner_text("body")[:1500]
    raise AssertionError(f"browser never showed it; last value {value!r}; page says:\n{text}")


@pytest.mark.browser
@pytest.mark.slow
def test_a_short_run_streams_loss_points_and_changes_the_filter_grid(page, streamlit_server):
    query = (f"spec={quote(network.to_json(TINY))}&train_examples=400&epochs=30"
             "&batch_size=10&validation_split=0.1")
    page.goto(f"{streamlit_server}/training?{query}")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**job=*", timeout=60_000)

    first = poll(page, CURVE_POINTS, lambda n: n is not None and n > 0)
    grid_before = poll(page, FILTER_GRID, lambda z: z is not None)
    later = poll(page, CURVE_POINTS, lambda n: n is not None and n > first + 10, timeout=120)
    assert later > first
    grid_after = poll(page, FILTER_GRID, lambda z: z is not None and z != grid_before,
                      timeout=60)
    assert json.loads(grid_after) != json.loads(grid_before)

    page.get_by_role("button", name="Stop").click()
    page.get_by_text("stopped by the user").first.wait_for(timeout=240_000)
    page.get_by_text("Test accuracy").first.wait_for(timeout=120_000)
    assert "Traceback" not in page.content()
