"""The session's language, kept by Streamlit: the one module besides app.py that imports
streamlit (docs/ARCHITECTURE.md says why; tests/test_architecture.py allows exactly this file).

``apply()`` runs at the top of every script run (app.py): it picks the language — ``?lang=ko`` /
``?lang=en`` in the address, else the session's earlier choice, else the browser's language
(``st.context.locale``), else English — and sets it for ``playground.i18n._`` on this thread.
``language_switch()`` draws the sidebar's English / 한국어 switch, which writes ``?lang``.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground import i18n

QUERY_KEY = i18n.QUERY_KEY
STATE_KEY = "i18n_language"   # the language this session last ran in
# True once the session's language was asked for (a ?lang link, the switch), not guessed from
# the browser: from then on the address carries it, also after the sidebar's page links (which
# open a page with an empty address), so a copied address keeps the language.
ASKED_KEY = "i18n_asked"
SWITCH_KEY = "i18n_switch"
# Named in both languages: whoever cannot read the current one can still find it.
SWITCH_LABEL = "Language · 언어"


def _session_language() -> str | None:
    """The session's language, for a run on a thread where apply() did not run (a fragment's
    rerun); None outside a script run (a worker thread)."""
    if get_script_run_ctx() is None:
        return None
    return st.session_state.get(STATE_KEY)


def apply() -> str:
    """Choose this run's language, set it for ``i18n._`` and remember it in the session."""
    i18n.set_fallback(_session_language)
    query = st.query_params.get(QUERY_KEY)
    language = i18n.choose_language(query, st.session_state.get(STATE_KEY), _browser_locale())
    if i18n.normalize(query):
        st.session_state[ASKED_KEY] = True
    elif query is None and st.session_state.get(ASKED_KEY):
        st.query_params[QUERY_KEY] = language
    st.session_state[STATE_KEY] = language
    return i18n.set_language(language)


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:   # no browser behind this session (AppTest, a bare script run)
        return None


def _switched() -> None:
    """The switch's callback (runs before the script): the address and the session follow."""
    language = i18n.normalize(st.session_state.get(SWITCH_KEY))
    if language:   # None: the selected option was clicked again; keep the language
        st.session_state[STATE_KEY] = language
        st.session_state[ASKED_KEY] = True
        st.query_params[QUERY_KEY] = language


def language_switch() -> None:
    """English / 한국어 in the sidebar, showing the language apply() chose."""
    st.session_state[SWITCH_KEY] = i18n.current_language()
    st.sidebar.segmented_control(SWITCH_LABEL, list(i18n.LANGUAGES),
                                 format_func=i18n.LANGUAGES.__getitem__, key=SWITCH_KEY,
                                 on_change=_switched)
