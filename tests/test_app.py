"""AppTest of the entry: the home page and every page of the navigation render without an
exception (pages still being built may be placeholders)."""
from __future__ import annotations

import pytest

from tests.helpers import ROOT, app_test

PAGES = sorted(path.stem for path in (ROOT / "pages").glob("*.py") if path.stem != "home")


def test_home_page_renders_with_a_link_to_every_lab():
    at = app_test()
    assert not at.exception
    assert at.title[0].value == "CNN Playground"
    links = [link.proto.label for link in at.get("page_link")]
    assert {"Shape Lab", "Filter Lab", "Live Training", "Model Inspector"} <= set(links)


def test_every_page_file_is_in_the_navigation():
    assert {"shape_lab", "filter_lab", "training", "inspector"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page):
    at = app_test(page)
    assert not at.exception, at.exception
    assert at.title, f"{page} shows no title"


def test_switching_between_pages_and_back_keeps_the_shape_lab_settings():
    at = app_test("shape_lab")
    (height,) = [w for w in at.number_input if w.key == "sl_h"]
    height.set_value(11).run()
    at.switch_page(str(ROOT / "pages" / "home.py")).run()
    assert not at.exception
    at.switch_page(str(ROOT / "pages" / "shape_lab.py")).run()
    assert not at.exception
    (height,) = [w for w in at.number_input if w.key == "sl_h"]
    assert height.value == 11
    assert [m.value for m in at.metric][0] == "10 × 2 × 1"
