"""Translations: the Korean catalog against the source, the language choice, the Home page in
both languages, and sessions that do not see each other's language.

The catalog test extracts the messages with Babel exactly as ``pybabel extract -F babel.cfg``
does and compares them with the ``.po`` files of ``locales/ko/LC_MESSAGES/`` (merged).
"""
from __future__ import annotations

import json
import threading

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from playground import i18n
from playground.i18n import _
from tests.helpers import APP, ROOT, app_test

CATALOGS = ROOT / "locales" / "ko" / "LC_MESSAGES"
HOME_EN = ["CNN Playground", "The pipeline of a CNN", "Labs", "Shape Lab", "Filter Lab",
           "Live Training", "Model Inspector"]


def _source_messages() -> dict[str, list[str]]:
    """msgid -> the files it comes from, over the files babel.cfg names."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    found: dict[str, list[str]] = {}
    skip = {".git", ".hypothesis", "runs", "bench", "tests", "docs", "locales"}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map,
            directory_filter=lambda path: not ({*path.split("/")} & skip)):
        assert isinstance(message, str), f"{filename}: a plural or context message {message}"
        found.setdefault(message, []).append(filename)
    return found


@pytest.fixture(scope="module")
def source_messages():
    return _source_messages()


def _read_catalogs():
    """Every ``*.po`` of the Korean folder, merged (a msgid may live in one file only)."""
    from babel.messages.catalog import Catalog

    merged, owner = Catalog(locale="ko"), {}
    for path in sorted(CATALOGS.glob("*.po")):
        with path.open("rb") as file:
            part = read_po(file, locale="ko")
        for message in part:
            if not message.id:
                continue
            assert message.id not in owner, (
                f"{message.id!r} is in both {owner[message.id]} and {path.name}")
            owner[message.id] = path.name
            merged[message.id] = message
        merged.obsolete.update(part.obsolete)
    return merged


@pytest.fixture(scope="module")
def korean():
    return _read_catalogs()


def test_extraction_finds_the_home_page_and_the_navigation(source_messages):
    """The extraction itself works: without this, an empty extraction would pass the rest."""
    assert set(HOME_EN) <= set(source_messages)
    assert "stride {stride}" in source_messages
    assert any(f.startswith("pages") for files in source_messages.values() for f in files)


def test_every_message_has_a_korean_translation(source_messages, korean):
    missing = sorted(m for m in source_messages
                     if not (korean.get(m) and korean.get(m).string)
                     or korean.get(m).fuzzy)
    assert missing == [], f"untranslated (pybabel update, then translate): {missing}"


def test_the_catalog_has_no_stale_entries(source_messages, korean):
    stale = sorted(m.id for m in korean if m.id and m.id not in source_messages)
    assert stale == [], f"in a .po file but no longer in the source: {stale}"
    assert not korean.obsolete, f"obsolete (#~) entries: {list(korean.obsolete)}"


def test_placeholders_are_the_same_in_english_and_korean(korean):
    differ = {m.id: (sorted(i18n.placeholders(m.id)), sorted(i18n.placeholders(m.string)))
              for m in korean if m.id and m.string
              and i18n.placeholders(m.id) != i18n.placeholders(m.string)}
    assert differ == {}


def test_korean_uses_the_course_words(korean):
    """A few of docs/glossary.md's words, where the English has the idea."""
    words = {"conv": "합성곱", "max pool": "최대 풀링", "avg pool": "평균 풀링",
             "fully connected": "완전 연결", "stride {stride}": "스트라이드"}
    assert {en: ko for en, ko in words.items() if ko not in korean.get(en).string} == {}


# --- the module --------------------------------------------------------------------------

@pytest.fixture
def language():
    """Tests set the language on their own thread; put English back after them."""
    yield
    i18n.set_language("en")


@pytest.mark.parametrize(("query", "chosen", "browser", "expected"), [
    ("ko", None, None, "ko"),
    ("en", "ko", "ko-KR", "en"),          # the address wins
    (None, "ko", "en-US", "ko"),          # then the session's earlier choice
    (None, None, "ko-KR", "ko"),          # then the browser
    (None, None, "ko", "ko"),
    (None, None, "de-DE", "en"),          # a language we do not have: English
    ("xx", None, "ko-KR", "ko"),          # a bad address value is passed over
    ("<b>ko</b>", None, None, "en"),
    ("", None, None, "en"),
    (None, None, None, "en"),
    (["ko"], 3, b"ko", "en"),             # not strings at all
])
def test_choose_language(query, chosen, browser, expected):
    assert i18n.choose_language(query, chosen, browser) == expected


def test_translate_and_format(language):
    i18n.set_language("ko")
    assert _("Labs") == "실험실"
    assert _("stride {stride}", stride=2) == "스트라이드 2"
    assert _("{units} units", units=10) == "유닛 10개"
    assert _("a message nobody translated") == "a message nobody translated"
    assert _("a {brace} left as it is") == "a {brace} left as it is"   # no kwargs: no format
    i18n.set_language("en")
    assert _("stride {stride}", stride=2) == "stride 2"
    assert i18n.set_language("fr") == "en"


def test_a_broken_or_fuzzy_translation_shows_the_english(tmp_path, monkeypatch, language):
    """A real .po with a wrong placeholder and a fuzzy entry, read by the real loader."""
    folder = tmp_path / "ko" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "stride {stride}"\nmsgstr "스트라이드 {step}"\n\n'
        '#, fuzzy\nmsgid "Labs"\nmsgstr "실험"\n\n'
        'msgid "Home"\nmsgstr "홈"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        i18n.set_language("ko")
        assert _("stride {stride}", stride=3) == "stride 3"
        assert _("Labs") == "Labs"
        assert _("Home") == "홈"
    finally:
        i18n.catalog.cache_clear()


def test_sessions_on_two_threads_keep_their_own_language():
    """Streamlit runs each session's script on its own thread: a language set on one thread
    is not seen on another, even while both translate at the same time."""
    barrier = threading.Barrier(2)
    seen: dict[str, list[str]] = {}

    def session(language):
        i18n.set_language(language)
        out = []
        for _round in range(50):
            barrier.wait()      # both threads have set their language before either reads
            out.append(_("Labs") + "|" + _("stride {stride}", stride=1)
                       + "|" + i18n.current_language())
        seen[language] = out

    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("ko", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert set(seen["ko"]) == {"실험실|스트라이드 1|ko"}
    assert set(seen["en"]) == {"Labs|stride 1|en"}


def test_a_thread_without_a_language_asks_the_fallback_then_english(language):
    results = {}

    def fresh_thread(name):
        results[name] = i18n.current_language()

    try:
        i18n.set_fallback(lambda: "ko")
        thread = threading.Thread(target=fresh_thread, args=("with fallback",))
        thread.start()
        thread.join()
        i18n.set_fallback(lambda: "nonsense")
        thread = threading.Thread(target=fresh_thread, args=("bad fallback",))
        thread.start()
        thread.join()
    finally:
        i18n.set_fallback(None)
    thread = threading.Thread(target=fresh_thread, args=("none",))
    thread.start()
    thread.join()
    assert results == {"with fallback": "ko", "bad fallback": "en", "none": "en"}


# --- the Home page -------------------------------------------------------------------------

def _texts(at) -> str:
    """Every text the page wrote (elements, page links, the figure's annotations)."""
    parts = [e.value for kind in ("title", "subheader", "caption", "markdown")
             for e in getattr(at, kind)]
    parts += [link.proto.label for link in at.get("page_link")]
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        parts += [a.get("text", "") for a in figure["layout"].get("annotations", [])]
    return "\n".join(parts)


def _home(query=None, locale=None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query or {})
    at.context["locale"] = locale
    return at.run()


def test_home_page_in_korean():
    at = app_test(query={"lang": "ko"})
    assert not at.exception, at.exception
    assert at.title[0].value == "CNN 플레이그라운드"
    assert [s.value for s in at.subheader] == ["CNN의 파이프라인", "실험실"]
    assert [link.proto.label for link in at.get("page_link")] == [
        "CNN이 처음이라면 강의부터 시작하세요", "형태 실험실", "필터 실험실", "손으로 하는 역전파",
        "실시간 학습", "모델 살펴보기"]
    text = _texts(at)
    for word in ("합성곱 신경망", "합성곱", "최대 풀링", "스트라이드 1", "완전 연결", "유닛 10개",
                 "클래스별<br>확률", "28×28×32"):
        assert word in text, word
    left = [en for en in HOME_EN if en in text.replace("CNN 플레이그라운드", "")]
    assert left == [], f"English left on the Korean page: {left}"
    (switch,) = at.get("button_group")
    assert switch.value == "ko"


def test_home_page_in_english():
    at = app_test(query={"lang": "en"})
    assert not at.exception, at.exception
    assert at.title[0].value == "CNN Playground"
    assert [s.value for s in at.subheader] == ["The pipeline of a CNN", "Labs"]
    text = _texts(at)
    assert "stride 1" in text and "max pool" in text and "class<br>probabilities" in text
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in text), "Hangul on the English page"


@pytest.mark.parametrize("value", ["xx", "", "KO-kr-x", "<script>alert(1)</script>", "9" * 5000,
                                   "ko\x00", "%00"])
def test_a_bad_lang_value_falls_back_to_english(value):
    at = app_test(query={"lang": value})
    assert not at.exception, at.exception
    expected = "CNN 플레이그라운드" if i18n.normalize(value) == "ko" else "CNN Playground"
    assert at.title[0].value == expected


def test_the_browser_language_without_lang_and_the_address_over_it():
    assert _home(locale="ko-KR").title[0].value == "CNN 플레이그라운드"
    assert _home(locale="en-GB").title[0].value == "CNN Playground"
    assert _home(locale="ja-JP").title[0].value == "CNN Playground"
    assert _home({"lang": "en"}, locale="ko-KR").title[0].value == "CNN Playground"


def test_the_switch_writes_lang_and_the_session_keeps_it():
    at = app_test(query={"lang": "en"})
    at.get("button_group")[0].set_value("ko").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "CNN 플레이그라운드"
    assert at.query_params["lang"] == "ko"
    # A link that lost ?lang (a page of the app rewrote the address): the session's choice.
    del at.query_params["lang"]
    at.run()
    assert at.title[0].value == "CNN 플레이그라운드"
    at.switch_page(str(ROOT / "pages" / "shape_lab.py")).run()
    at.switch_page(str(ROOT / "pages" / "home.py")).run()
    assert not at.exception
    assert at.title[0].value == "CNN 플레이그라운드"
    # Clicking the selected option again deselects it in the browser: the language stays.
    at.get("button_group")[0].set_value(None).run()
    assert not at.exception
    assert at.title[0].value == "CNN 플레이그라운드"
    assert at.get("button_group")[0].value == "ko"


# --- a real browser -----------------------------------------------------------------------

@pytest.mark.browser
def test_a_korean_browser_gets_korean_and_the_switch_keeps_the_page_settings(
        browser, streamlit_server):
    from tests.helpers import wait_for_app

    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        tab.goto(streamlit_server)   # no ?lang: the browser's language
        wait_for_app(tab, timeout=120_000)
        tab.wait_for_selector("h1:has-text('CNN 플레이그라운드')", timeout=120_000)
        sidebar = tab.get_by_test_id("stSidebar")
        assert "형태 실험실" in sidebar.inner_text()

        sidebar.locator("button", has_text="English").click()
        tab.wait_for_selector("h1:has-text('CNN Playground')")
        assert "lang=en" in tab.url
        sidebar.get_by_text("Shape Lab").click()   # same session, a page of the app
        height = tab.get_by_label("Input height H")
        height.fill("7")
        height.press("Enter")
        metric = "document.querySelector('[data-testid=\"stMetricValue\"]')"
        tab.wait_for_function(f"() => {metric}.innerText.trim() === '6 × 2 × 1'")

        for language, nav, label in (("한국어", "형태 실험실", "입력 높이 H"),
                                     ("English", "Shape Lab", "Input height H")):
            sidebar.locator("button", has_text=language).click()
            tab.wait_for_function(
                "(nav) => document.querySelector('[data-testid=\"stSidebarNav\"]')"
                ".innerText.includes(nav)", arg=nav)
            wait_for_app(tab)
            tab.wait_for_function(f"() => {metric}.innerText.trim() === '6 × 2 × 1'")
            assert tab.get_by_label(label).input_value() == "7"
    finally:
        context.close()
