"""Real browser: Debian's Chromium drives `streamlit run`; complete lesson 2's task on the
Course page and see the tick (in the lesson, in the overview and in the address)."""
from __future__ import annotations

import re

import pytest

from tests.helpers import wait_for_app


@pytest.mark.browser
def test_lesson_two_task_ticks(page, streamlit_server):
    page.goto(f"{streamlit_server}/course?lesson=2&lang=en")
    wait_for_app(page, timeout=120_000)
    page.get_by_text("2 · Output size: stride and padding").first.wait_for(timeout=120_000)
    overview = page.get_by_test_id("stSidebar")
    overview.get_by_text("2 · Output size").wait_for(timeout=60_000)
    assert overview.get_by_text("✓ 2 · Output size").count() == 0

    padding = page.get_by_label("Padding P (zeros per side)")
    padding.fill("1")
    padding.press("Enter")
    page.get_by_text("✓ Done! The check passed.").wait_for(timeout=60_000)
    overview.get_by_text("✓ 2 · Output size").wait_for(timeout=30_000)
    page.wait_for_url(re.compile(r"[?&]done=2(&|$)"), timeout=10_000)
    # the live result says 7 × 7
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert "7 × 7" in [v.strip() for v in values]
