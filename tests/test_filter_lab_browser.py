"""The Filter Lab in a real browser: upload a bundled photo, pick the curve detector, see the
response image; click the response to pick a pixel."""
from __future__ import annotations

import pytest

from tests.helpers import ROOT, wait_for_app

pytestmark = pytest.mark.browser

PHOTO = ROOT / "sample_images" / "coffee.png"


def _open_lab(page, streamlit_server):
    page.goto(streamlit_server + "/filter_lab")
    wait_for_app(page)
    page.wait_for_selector("text=Response: Course edge 5×5 (vertical edges)", timeout=60_000)


def test_upload_photo_pick_curve_detector_and_see_the_response(page, streamlit_server):
    _open_lab(page, streamlit_server)
    page.get_by_text("Upload", exact=True).click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(PHOTO))
    page.wait_for_selector("text=coffee.png")
    wait_for_app(page)
    # The uploaded coffee cup (600×400) is now the input: the response title says its shape.
    page.wait_for_selector("text=400×600 · range", timeout=60_000)

    # Pick the curve detector in the filter list (type to search, Enter to add) ...
    page.get_by_test_id("stMultiSelect").first.locator("input").click()
    page.keyboard.type("curve detector")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)
    # ... and show it in detail.
    page.get_by_test_id("stSelectbox").filter(has_text="Filter shown in detail").first.click()
    page.get_by_role("option", name="Course curve detector 7×7").click()
    wait_for_app(page)

    response = page.get_by_test_id("stPlotlyChart").filter(
        has_text="Response: Course curve detector 7×7").first
    response.wait_for(timeout=60_000)
    image = response.locator("image").first
    image.wait_for(state="attached")
    href = image.get_attribute("href") or ""
    assert href.startswith("data:image/") and len(href) > 10_000  # a real picture, not a stub
    assert "400×600" in response.inner_text()
    assert page.get_by_test_id("stException").count() == 0


def test_clicking_the_response_picks_the_output_pixel(page, streamlit_server):
    _open_lab(page, streamlit_server)
    before = (page.get_by_label("Output row").input_value(),
              page.get_by_label("Output column").input_value())
    response = page.get_by_test_id("stPlotlyChart").filter(has_text="Response:").first
    box = response.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.25)
    wait_for_app(page)
    page.wait_for_function(
        "([r, c]) => { const row = document.querySelector('input[aria-label=\"Output row\"]');"
        " const col = document.querySelector('input[aria-label=\"Output column\"]');"
        " return row && col && (row.value !== r || col.value !== c); }",
        arg=list(before), timeout=30_000)
    row = int(page.get_by_label("Output row").input_value())
    col = int(page.get_by_label("Output column").input_value())
    # 20% across and 25% down the 300×451 response of the cat, within the click grid's step.
    assert abs(col - 0.2 * 451) < 25 and abs(row - 0.25 * 300) < 25, (row, col)
    assert page.get_by_text(f"Output ({row}, {col})").count() >= 1


def test_download_gives_the_full_resolution_png(page, streamlit_server):
    _open_lab(page, streamlit_server)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download this filter's result at full resolution "
                                        "(PNG)").click()
    path = info.value.path()
    from PIL import Image
    with Image.open(path) as image:
        assert image.format == "PNG"
        # The cat is 451×300; the default pipeline max-pools 2×2 after a SAME conv.
        assert image.size == (225, 150)
