"""The Course page headless (AppTest): every lesson opens in English and Korean with no
exception, tasks tick in the overview and the address, previous / next, hostile ?lesson values,
and the "open in the lab" link carrying the lesson's state and the language. No TensorFlow."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from playground.course import LESSONS
from playground.i18n import catalog
from tests.helpers import app_test

COUNT = len(LESSONS)


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _visit_every_lesson(at) -> dict[int, str]:
    """Open each lesson through the sidebar overview; the header of each."""
    headers = {}
    for number in range(1, COUNT + 1):
        at.radio(key="co_pick").set_value(number).run()
        _ok(at)
        assert not at.error, (number, [e.value for e in at.error])
        headers[number] = at.header[0].value
        assert at.query_params["lesson"] == [str(number)] or \
            at.query_params["lesson"] == str(number)
        assert len(at.code) >= 2, "the notes' code and its Keras form"
        assert at.get("page_link"), "open in the lab"
    return headers


def test_every_lesson_in_english():
    at = app_test("course", query={"lang": "en"})
    _ok(at)
    headers = _visit_every_lesson(at)
    assert headers[1] == f"1 · {LESSONS[0].title}"
    assert headers[COUNT] == f"{COUNT} · {LESSONS[-1].title}"


def test_every_lesson_in_korean():
    at = app_test("course", query={"lang": "ko"})
    _ok(at)
    assert at.title[0].value == catalog("ko")["Course"]
    headers = _visit_every_lesson(at)
    korean = catalog("ko")
    for number, lesson in enumerate(LESSONS, start=1):
        assert headers[number] == f"{number} · {korean[lesson.title]}"
    # the paragraphs of the last lesson shown are in Korean too
    texts = [m.value for m in at.markdown]
    assert korean[LESSONS[-1].paragraphs[0]] in texts


def test_names_and_layer_words_from_other_modules_are_in_korean_too():
    """Texts a lesson takes from elsewhere (a preset's name, the Shape Lab's layer words)."""
    korean = catalog("ko")
    at = app_test("course", query={"lang": "ko", "lesson": "15"})
    _ok(at)
    options = next(r.options for r in at.radio if r.key != "co_pick")   # shown labels
    assert any("Conv2D 5×5×8, 스트라이드 1, 패딩 2" in o for o in options), options
    assert not any("stride" in o or "window" in o for o in options), options
    at = app_test("course", query={"lang": "ko", "lesson": "10"})
    _ok(at)
    shipped = [m.value for m in at.markdown if "212,426" in m.value]
    assert shipped and korean["Fast MNIST CNN"] in shipped[0]
    assert "Fast MNIST CNN" not in shipped[0]


def _query(at) -> dict:
    return {key: (value[-1] if isinstance(value, list) else value)
            for key, value in at.query_params.items()}


def test_task_ticks_in_the_overview_and_the_address_and_next_previous_move():
    at = app_test("course", query={"lang": "en", "lesson": "2"})
    assert at.header[0].value.startswith("2 · ")
    assert not at.success
    at.number_input(key="co_2_pad").set_value(1).run()
    _ok(at)
    assert at.success and at.success[0].value.startswith("✓")
    assert at.radio(key="co_pick").options[1].startswith("✓ 2")
    assert at.radio(key="co_pick").options[0].startswith("1 · ")
    assert _query(at)["done"] == "2"
    assert "1 of 15" in at.get("progress")[0].proto.text
    at.button(key="co_next").click().run()
    assert at.header[0].value.startswith("3 · ") and _query(at)["lesson"] == "3"
    at.button(key="co_previous").click().run()
    assert at.header[0].value.startswith("2 · ")
    # the lesson kept its setting while another one was open
    assert at.number_input(key="co_2_pad").value == 1 and at.success


@pytest.mark.parametrize("lesson", ["16", "abc", "9" * 400, "٣"])
def test_hostile_lesson_values_open_lesson_one(lesson):
    at = app_test("course", query={"lesson": lesson, "done": "x.99.,,3"})
    _ok(at)
    assert at.header[0].value.startswith("1 · ")
    assert _query(at)["lesson"] == "1" and _query(at)["done"] == "3"


def test_a_shared_address_restores_lesson_and_ticks():
    at = app_test("course", query={"lesson": "7", "done": "1.2.5"})
    _ok(at)
    assert at.header[0].value.startswith("7 · ")
    marks = [option[0] for option in at.radio(key="co_pick").options]
    assert [i + 1 for i, mark in enumerate(marks) if mark == "✓"] == [1, 2, 5]


def test_lab_link_carries_the_lessons_state_and_the_language():
    at = app_test("course", query={"lang": "ko", "lesson": "3"})
    at.number_input(key="co_3_filters").set_value(6).run()
    link = at.get("page_link")[0].proto
    assert link.page == "shape_lab"
    query = parse_qs(link.query_string)
    assert query["filters"] == ["6"] and query["h"] == ["32"] and query["lang"] == ["ko"]


def test_filter_lab_link_names_the_tab_in_the_pages_language():
    korean = catalog("ko")
    at = app_test("course", query={"lang": "ko", "lesson": "6"})
    link = at.get("page_link")[0].proto
    assert link.page == "filter_lab"
    assert parse_qs(link.query_string)["tab"] == [korean["Toy tensors (course examples)"]]
