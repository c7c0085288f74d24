"""AppTest of the entry: the home page and every page of the navigation render without an
exception (pages still being built may be placeholders)."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from tests.helpers import ROOT, app_test

PAGES = sorted(path.stem for path in (ROOT / "pages").glob("*.py") if path.stem != "home")


def test_home_page_renders_with_a_link_to_every_lab():
    at = app_test()
    assert not at.exception
    assert at.title[0].value == "CNN Playground"
    links = [link.proto.label for link in at.get("page_link")]
    assert {"Shape Lab", "Filter Lab", "Backprop by hand", "Live Training",
            "Model Inspector"} <= set(links)
    # The course is offered first, before the labs.
    assert links[0] == "New to CNNs? Start the course"


@pytest.mark.parametrize("teacher", [False, True], ids=["no teacher password", "teacher password"])
def test_every_page_file_is_in_the_navigation_and_nothing_else(teacher, monkeypatch):
    """The pages app.py hands to st.navigation, read while it runs, against the files in pages/:
    the Teacher page only when a teacher password is set."""
    import streamlit as st

    if teacher:
        monkeypatch.setenv("PLAYGROUND_TEACHER_PASSWORD", "a long classroom password")
    else:
        monkeypatch.delenv("PLAYGROUND_TEACHER_PASSWORD", raising=False)
    given = []

    def recording_navigation(pages, *args, **kwargs):
        given.extend(pages)
        return real_navigation(pages, *args, **kwargs)

    real_navigation = st.navigation
    with mock.patch.object(st, "navigation", recording_navigation):
        at = app_test()
    assert not at.exception
    files = sorted(Path(page._page).resolve() for page in given)
    expected = sorted(path for path in (ROOT / "pages").glob("*.py")
                      if teacher or path.name != "teacher.py")
    assert files == expected
    assert [page.title for page in given if page._default] == ["Home"]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page, monkeypatch):
    if page == "teacher":   # in the navigation only when a teacher password is set
        monkeypatch.setenv("PLAYGROUND_TEACHER_PASSWORD", "a long classroom password")
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
