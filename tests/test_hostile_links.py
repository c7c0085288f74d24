"""Hostile links: whatever the address holds, every page runs without a traceback.

A link is user input like an upload: people edit addresses by hand, share cut-off ones, and
chat apps mangle them. Every page reads some of its settings from the address; a value it
cannot use is ignored (with a one-line warning where the page names its settings) and the page
runs on. Hypothesis draws query strings from each page's own keys and hostile values; a table
of boundary values covers every range the Training page accepts (a value that the settings
accepted but a widget's own range refused once stopped the page).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.core import runs
from playground.filter_lab import settings as filter_settings
from playground.shape_lab import settings as shape_settings
from playground.training import settings as training_settings
from tests.helpers import app_test

RUN_ID = "20261122-183000-a1b2c3"   # a saved run the links may name (or not)

PAGE_KEYS = {
    "home": ["page", "x"],
    "shape_lab": list(shape_settings.PROPS),
    "filter_lab": list(filter_settings.LINK) + ["tab"],
    "training": list(training_settings.QUERY_KEYS) + ["spec", "preset", "job"],
    "inspector": ["run", "input", "digit"],
    "course": ["lesson", "done"],
}
# Every page reads the language from the address too (playground/i18n_state.py).
PAGE_KEYS = {page: keys + ["lang"] for page, keys in PAGE_KEYS.items()}
# The language's own odd values: ours in odd spellings, others', and attempts at markup.
LANG_VALUES = ["ko", "en", "KO", " ko-KR ", "ko_KR", "en-US", "kor", "ja", "zh-Hant", "xx",
               "k", "ko\x00", "한국어", "<ko>"]
ODD_VALUES = ["", " ", "nan", "-nan", "inf", "-inf", "1e309", "-0", "0x10", "1_000", "1.5",
              "²", "٣", "¹⁰", "Ⅻ", "<b>bold</b>", "<script>alert(1)</script>", "{", "[]",
              "null", "true", "%", "%00", "../../etc/passwd", RUN_ID, RUN_ID[:-1] + "0",
              "9" * 5000, "a" * 3000, '{"input_shape": [28, 28, 1], "layers": []}',
              "Max pooling", "same", "valid", "Custom network (spec JSON)", *LANG_VALUES]
hostile = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
SOME = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from playground.training import models
    from tests.helpers import TINY_PRESET
    path = tmp_path_factory.mktemp("link_model") / "model.keras"
    models.build_model(TINY_PRESET).save(path)
    return path


@pytest.fixture
def saved_run(model_file):
    """A saved run in this test's runs folder, so that links naming it reach the model views."""
    from tests.helpers import save_run
    return save_run(model_file, runs.runs_dir(), RUN_ID)


def page_with_query(page: str, query: dict):
    return app_test(page, timeout=90, query=query)


def assert_runs(at, query: dict) -> None:
    assert not at.exception, (query, [e.value for e in at.exception])


@pytest.mark.parametrize("page", list(PAGE_KEYS))
def test_any_link_opens_the_page_without_a_traceback(page, saved_run):
    queries = st.dictionaries(st.sampled_from(PAGE_KEYS[page]),
                              st.one_of(hostile, st.lists(hostile, min_size=1, max_size=3)),
                              max_size=5)

    @SOME
    @given(query=queries)
    def check(query):
        assert_runs(page_with_query(page, query), query)
    check()


# What a page's title is in English; any lang that is not one of ours falls back to it.
TITLES = {"home": "CNN Playground", "shape_lab": "Shape Lab", "filter_lab": "Filter Lab"}
KOREAN_TITLES = {"home": "CNN 플레이그라운드", "shape_lab": "형태 실험실",
                 "filter_lab": "필터 실험실"}


@pytest.mark.parametrize("page", list(TITLES))
def test_a_bad_lang_falls_back_to_english_and_a_good_one_is_read(page):
    for value in ("xx", "<script>alert(1)</script>", "9" * 5000, "ja", ""):
        at = page_with_query(page, {"lang": value})
        assert_runs(at, {"lang": value})
        assert at.title[0].value == TITLES[page], value
    for value in ("ko", " KO-kr "):
        at = page_with_query(page, {"lang": value})
        assert_runs(at, {"lang": value})
        assert at.title[0].value == KOREAN_TITLES[page], value


def _edges(name: str) -> list[str]:
    low, high = training_settings.LIMITS[name]
    if isinstance(low, int):
        return [str(low), str(high), str(low - 1), str(high + 1)]
    return [repr(low), repr(high), repr(low / 2 if low else -0.01), repr(high * 1.01)]


TRAINING_EDGES = [(name, value) for name in training_settings.QUERY_KEYS
                  if name in training_settings.LIMITS
                  for value in _edges(name)]


@pytest.mark.parametrize("name, value", TRAINING_EDGES)
def test_training_link_at_the_edge_of_every_range(name, value):
    at = page_with_query("training", {name: value})
    assert_runs(at, {name: value})
    low, high = training_settings.LIMITS[name]
    inside = low <= float(value) <= high
    warned = any(name in w.value for w in at.warning)
    assert warned != inside, (name, value, [w.value for w in at.warning])


@pytest.mark.parametrize("digit, shown", [("²", 0), ("٣", 3), ("12", 12), ("10000", 0),
                                           ("-1", 0)])
def test_inspector_digit_link_takes_decimal_digits_only(saved_run, digit, shown):
    # "²".isdigit() is true but int("²") raises; "٣" is the Arabic-Indic 3, which int() reads.
    at = page_with_query("inspector", {"run": RUN_ID, "digit": digit})
    assert_runs(at, {"digit": digit})
    assert at.number_input(key="digit_index").value == shown
