"""Translations: every word the playground shows goes through ``_``.

English is the source language: a message is written in English in the code, and its Korean
translation lives in the gettext catalog ``locales/ko/LC_MESSAGES/messages.po`` (managed with
Babel: ``babel.cfg`` names the files its messages are extracted from). The catalog is read from
the ``.po`` itself, once per process, so there is no compile step to forget.

The language is per session, not per process: Streamlit runs every session's script in a thread
of its own, so the choice is a ``ContextVar`` that ``playground/i18n_state.py`` sets at the top
of every script run. A thread where it was never set (a fragment's rerun on a fresh thread) asks
the fallback function that ``i18n_state`` registers; without one it is English. This module
imports no streamlit.

    _("Labs")                                 -> "실험실" in Korean, "Labs" in English
    _("stride {stride}", stride=2)            -> "스트라이드 2"

Placeholders keep the same names in both languages (tests/test_i18n.py checks the catalog).
"""
from __future__ import annotations

import functools
import string
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE = "en"
# The address's key for the language (?lang=ko): read by i18n_state, written into every link.
QUERY_KEY = "lang"
# The languages the switch offers, each named in itself.
LANGUAGES = {"en": "English", "ko": "한국어"}

_language: ContextVar[str | None] = ContextVar("playground_language", default=None)
_fallback: Callable[[], str | None] | None = None


def normalize(value: object) -> str | None:
    """A language code of ours from an address value or a browser locale ('ko', 'ko-KR',
    'ko_KR', ' EN '), or None when it names no language we have."""
    if not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def choose_language(query: object = None, chosen: object = None, browser: object = None) -> str:
    """The address's ``?lang`` when it is one of ours, else the session's earlier choice, else
    the browser's language, else English."""
    for candidate in (query, chosen, browser):
        code = normalize(candidate)
        if code:
            return code
    return SOURCE


def set_language(language: object) -> str:
    """Make ``language`` (or English, when it is not one of ours) this thread's language;
    returns the code set."""
    code = normalize(language) or SOURCE
    _language.set(code)
    return code


def set_fallback(getter: Callable[[], str | None] | None) -> None:
    """The function asked for the language where this thread never set one."""
    global _fallback
    _fallback = getter


def current_language() -> str:
    """'en' or 'ko': this thread's language."""
    code = _language.get()
    if code is None and _fallback is not None:
        code = normalize(_fallback())
    return code or SOURCE


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """msgid -> msgstr of the language's ``.po`` files (``messages.po``, and any other ``*.po``
    beside it: a part of the interface may keep its own file, e.g. the lessons); fuzzy and
    untranslated entries are left out (they show in English). English, or no file, is the
    empty catalog."""
    folder = LOCALES / language / "LC_MESSAGES"
    if language == SOURCE or not folder.is_dir():
        return {}
    from babel.messages.pofile import read_po  # only the first translated message pays it

    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as file:
            po = read_po(file, locale=language, domain=path.stem)
        merged.update({message.id: message.string for message in po
                       if message.id and isinstance(message.id, str) and message.string
                       and not message.fuzzy})
    return merged


def placeholders(text: str) -> set[str]:
    """The names of the ``{…}`` fields in ``text`` (``{count:,}`` -> 'count')."""
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text)
            if name is not None}


class Later(str):
    """A message made once and shown to many sessions (a cached data set's or photo's notes):
    its value is the English text; ``_(later)`` gives it in the reader's language.
    ``Later(N_("Skipped {count} files."), count=3)``; a parameter may itself be a Later."""

    message: str
    params: dict

    def __new__(cls, message: str, **params: object) -> "Later":
        self = super().__new__(cls, message.format(**params) if params else message)
        self.message, self.params = message, params
        return self

    def shown(self) -> str:
        return _(self.message, **{name: _(value) if isinstance(value, Later) else value
                                  for name, value in self.params.items()})


def _(message: str, **kwargs: object) -> str:
    """``message`` in the current language, formatted with ``kwargs`` when there are any
    (without kwargs the text is returned as it is, braces and all). A ``Later`` is
    translated with its own parameters."""
    if isinstance(message, Later) and not kwargs:
        return message.shown()
    translated = catalog(current_language()).get(message, message)
    if not kwargs:
        return translated
    try:
        return translated.format(**kwargs)
    except (KeyError, IndexError, ValueError):   # a broken translation shows the English
        return message.format(**kwargs)


def link_query(params: Mapping[str, object] | None = None) -> dict[str, object]:
    """``params`` plus the current language, for a link the app builds (``st.page_link``'s
    ``query_params``, a page's address): whoever follows it sees the same language."""
    return {**(params or {}), QUERY_KEY: current_language()}


def link(path: str, params: Mapping[str, object] | None = None) -> str:
    """An in-app address with the current language:
    ``link("training", {"dataset": "mnist"})`` -> ``"training?dataset=mnist&lang=ko"``."""
    from urllib.parse import urlencode

    return f"{path}?{urlencode(link_query(params), doseq=True)}"


def keep_language(query: Mapping[str, object], address: Mapping[str, object]
                  ) -> dict[str, object]:
    """``query`` (a page's settings about to replace the address) with the address's own
    ``?lang`` kept when it names one of our languages (a bad value is dropped)."""
    kept = dict(query)
    language = normalize(address.get(QUERY_KEY))
    if language:
        kept[QUERY_KEY] = language
    return kept


def shown(labels: Mapping[object, str] | None = None) -> Callable[[object], str]:
    """A widget's ``format_func``: the option (or its label in ``labels``) in the current
    language, fixed when the widget is made — Streamlit's test runner calls it again on the
    test's own thread, where another language may be set."""
    table = catalog(current_language())

    def show(option: object) -> str:
        text = labels[option] if labels is not None else str(option)
        return table.get(text, text)
    return show


def message_of(text: object, messages: Sequence[str]) -> str | None:
    """The one of ``messages`` (English msgids) that ``text`` is, in English or in any of our
    languages (a tab's label carried in a link made in another language); None for none."""
    if not isinstance(text, str):
        return None
    for message in messages:
        if text == message or any(text == catalog(language).get(message)
                                  for language in LANGUAGES if language != SOURCE):
            return message
    return None


def N_(message: str) -> str:
    """Marks a message for extraction without translating it now (module-level tables whose
    texts are translated with ``_`` where they are shown)."""
    return message
