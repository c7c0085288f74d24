"""The Shape Lab and the Filter Lab in Korean: titles, widget labels, table headers, messages
and figure titles in Korean, no exception; the language kept in the address and in the links
the app builds (tests/test_i18n.py covers the catalog, the choice of language and Home)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from playground import i18n
from tests.helpers import ROOT, app_test

HANGUL = re.compile("[\uac00-\ud7a3]")
# Labels that are technical names or formulas in both languages (docs/glossary.md).
TECHNICAL = {"ReLU (max(0, x))", "Sobel x + y", "Language · 언어"}
WIDGETS = ("number_input", "radio", "selectbox", "multiselect", "slider", "select_slider",
           "checkbox", "button", "text_input", "toggle")


def _labels(at) -> list[str]:
    return [widget.label for kind in WIDGETS for widget in at.get(kind)
            if getattr(widget, "label", None)]


def _untranslated(texts) -> list[str]:
    """Texts with Latin words but no Hangul (numbers, symbols and technical names pass)."""
    return [text for text in texts if text not in TECHNICAL and not HANGUL.search(text)
            and re.search(r"[A-Za-z]{3,}", text)]


def _figure_titles(at) -> list[str]:
    import json

    titles = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec).get("layout", {})
        title = layout.get("title", {})
        if isinstance(title, dict) and title.get("text"):
            titles.append(title["text"].split("<br>")[0])
    return titles


@pytest.fixture(autouse=True)
def korean_test_thread():
    """AppTest formats a widget's value with its format_func on the test's own thread when a
    test sets it: that thread must speak the page's language too (each thread has its own)."""
    i18n.set_language("ko")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="module")
def shape_lab_ko():
    return app_test("shape_lab", query={"lang": "ko"})


def test_shape_lab_in_korean(shape_lab_ko):
    at = shape_lab_ko
    assert not at.exception, at.exception
    assert at.title[0].value == "형태 실험실"
    assert [h.value for h in at.header][:4] == ["1 · 계층 하나", "2 · 딱 맞나요?",
                                                 "3 · 슬라이딩 윈도우", "4 · 전체 신경망"]
    labels = _labels(at)
    assert {"입력 높이 H", "스트라이드 (행)", "패딩", "팽창 D", "프리셋"} <= set(labels)
    assert _untranslated(labels) == []
    assert at.metric[0].label == "출력 형태 H′ × W′ × C′"
    assert "파라미터" in at.markdown[0].value or any("파라미터" in m.value for m in at.markdown)
    # The radio shows its options in words; the link keeps the value.
    kind = at.radio(key="sl_kind")
    assert kind.value == "conv" and "합성곱" in kind.options


def test_shape_lab_messages_and_core_errors_in_korean(shape_lab_ko):
    at = shape_lab_ko
    at.number_input(key="sl_sh").set_value(0).run()
    assert not at.exception, at.exception
    (error,) = at.error
    # core/shapes.py raised it through _; the page put its own label in front.
    assert error.value == "불가능한 계층: 스트라이드 (행)은(는) 1 이상이어야 합니다. 받은 값: 0."
    at.number_input(key="sl_sh").set_value(2).run()
    at.number_input(key="sl_h").set_value(5).run()   # (5 − 2) is not a multiple of 2
    assert not at.exception and not at.error
    assert any(w.value.startswith("**높이가 맞지 않습니다:**") for w in at.warning)


def test_the_shape_lab_keeps_lang_in_the_address_and_the_training_link(shape_lab_ko):
    at = shape_lab_ko
    at.number_input(key="sl_h").set_value(6).run()
    assert at.query_params["lang"] == ["ko"] or at.query_params["lang"] == "ko"
    assert at.query_params["h"] in ("6", ["6"])
    (button,) = at.get("link_button")
    assert button.proto.label.endswith("(으)로 학습")
    query = parse_qs(urlparse(button.proto.url).query)
    assert query["lang"] == ["ko"] and query["dataset"] == ["mnist"]


def test_the_shape_lab_address_drops_a_bad_lang():
    i18n.set_language("en")
    at = app_test("shape_lab", query={"lang": "<script>", "h": "5"})
    assert not at.exception, at.exception
    assert at.title[0].value == "Shape Lab"
    assert "lang" not in at.query_params


def test_link_helpers():
    assert i18n.link("training", {"dataset": "mnist", "spec": '{"a": 1}'}) == \
        "training?dataset=mnist&spec=%7B%22a%22%3A+1%7D&lang=ko"
    assert i18n.link_query() == {"lang": "ko"}
    i18n.set_language("en")
    assert i18n.link_query({"tab": "x"}) == {"tab": "x", "lang": "en"}
    assert i18n.keep_language({"h": "3"}, {"lang": "KO", "h": "9"}) == {"h": "3", "lang": "ko"}
    assert i18n.keep_language({"h": "3"}, {"lang": "xx"}) == {"h": "3"}
    assert i18n.keep_language({"h": "3"}, {}) == {"h": "3"}


def test_filter_lab_picture_tab_in_korean():
    at = app_test("filter_lab", query={"lang": "ko"})
    assert not at.exception, at.exception
    assert at.title[0].value == "필터 실험실"
    labels = _labels(at)
    assert {"사진", "작업 해상도 (긴 변, px)", "스트라이드", "패딩", "색"} <= set(labels)
    assert _untranslated(labels) == []
    assert at.subheader[0].value == "이 숫자는 어떻게 만들어질까요?" or \
        "이 숫자는 어떻게 만들어질까요?" in [s.value for s in at.subheader]
    titles = _figure_titles(at)
    assert "입력 (필터가 보는 것)" in titles
    assert any(title.startswith("응답: 강의 에지 5×5") for title in titles), titles
    # The link's values stay English; the options are shown in Korean.
    assert at.query_params["filter"] in (["Course edge 5×5 (vertical edges)"],
                                         "Course edge 5×5 (vertical edges)")
    assert at.query_params["lang"] in ("ko", ["ko"])


def test_filter_lab_toy_tab_and_a_bad_cell_in_korean():
    at = app_test("filter_lab", query={"lang": "ko", "tab": "작은 텐서 (강의 예제)"})
    assert not at.exception, at.exception
    assert "3×3 이미지와 2×2 커널" in [s.value for s in at.subheader]
    titles = _figure_titles(at)
    assert "VALID (패딩 없음)" in titles and any(t.startswith("맵 1") for t in titles)
    assert _untranslated(_labels(at)) == []


def test_the_home_page_links_carry_the_language():
    at = app_test(query={"lang": "ko"})
    assert not at.exception, at.exception
    links = at.get("page_link")
    assert len(links) >= 4
    assert {parse_qs(link.proto.query_string)["lang"][0] for link in links} == {"ko"}


def test_a_small_matrix_title_wraps_instead_of_being_clipped():
    from playground.charts.filter_lab import matrix_figure, text_width, wrap_title

    assert text_width("합성곱") > text_width("abc")    # a Hangul syllable is about one em
    assert wrap_title("VALID (no padding)", 152) == ["VALID (no padding)"]
    lines = wrap_title("SAME (아래/오른쪽에 0인 행/열)", 152)
    assert len(lines) == 2 and all(text_width(line) <= 152 for line in lines)
    short = matrix_figure([[1, 2], [3, 4]], "VALID").layout
    wrapped = matrix_figure([[1, 2], [3, 4]], "SAME (아래/오른쪽에 0인 행/열)").layout
    assert wrapped.title.text.startswith("SAME (아래/오른쪽에<br>0인 행/열)")
    assert wrapped.margin.t > short.margin.t and wrapped.height > short.height


def test_the_address_keeps_an_asked_for_language_across_the_sidebar_links():
    at = app_test(query={"lang": "ko"})
    at.query_params.clear()                    # a sidebar link opens a page with no query
    at.switch_page(str(ROOT / "pages" / "filter_lab.py")).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "필터 실험실"
    assert at.query_params["lang"] in ("ko", ["ko"])


def test_a_language_guessed_from_the_browser_stays_out_of_the_address():
    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.context["locale"] = "ko-KR"
    at.run()
    assert at.title[0].value == "CNN 플레이그라운드"
    assert "lang" not in at.query_params


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Impossible layer: Pool height: pool window 5 is larger than the padded input 3."),
    ("ko", "불가능한 계층: 풀링 높이: 풀링 윈도우 5이(가) 패딩된 입력 3보다 큽니다."),
])
def test_a_pooling_window_too_large_is_named_a_pool_window(language, expected):
    at = app_test("shape_lab", query={"lang": language, "kind": "max", "kh": "5"})
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [expected]


@pytest.mark.parametrize("lang, tab", [("en", "작은 텐서 (강의 예제)"),
                                       ("ko", "Toy tensors (course examples)")])
def test_a_filter_lab_link_from_the_other_language_opens_its_tab(lang, tab):
    at = app_test("filter_lab", query={"lang": lang, "tab": tab})
    assert not at.exception, at.exception
    toy = {"en": "A 3×3 image and a 2×2 kernel", "ko": "3×3 이미지와 2×2 커널"}[lang]
    assert toy in [s.value for s in at.subheader]


def test_message_of_reads_a_label_in_any_language():
    choices = ("Your picture", "Toy tensors (course examples)")
    korean = i18n.catalog("ko")["Toy tensors (course examples)"]
    assert i18n.message_of(korean, choices) == "Toy tensors (course examples)"
    assert i18n.message_of("Your picture", choices) == "Your picture"
    assert i18n.message_of("no such tab", choices) is None
    assert i18n.message_of(None, choices) is None and i18n.message_of(3, choices) is None
