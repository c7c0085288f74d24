"""Entry point: ``streamlit run playground/app.py``. Routes to the page scripts in ``pages/``.

``streamlit run`` puts ``playground/`` itself on sys.path. The project root goes there instead,
so that pages import ``playground.<wing>``, and ``playground/``'s own sub-packages (``core``,
``datasets``, ``training`` …) cannot shadow installed packages of the same names.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Streamlit adds playground/ again before every script run. It comes off by value: rebuilding
# the list raced with other sessions' runs (an entry moved while the copy was made was lost, and
# after enough runs a training worker spawned from the server could not import the stdlib).
for entry in {str(HERE), str(Path(__file__).absolute().parent)}:  # resolved, and as given
    try:
        while entry in sys.path:
            sys.path.remove(entry)
    except ValueError:   # another session's run removed it first
        pass
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from playground import heap, i18n_state  # noqa: E402
from playground.i18n import _  # noqa: E402
from playground.teacher import access as teacher_access  # noqa: E402

PAGES = ROOT / "pages"
# A local picture, not ":material/…:": Streamlit's browser code fetches a material favicon from
# fonts.gstatic.com, which leaks a request and fails offline. The pages' ":material/…:" icons are
# drawn with the font bundled in Streamlit's own static files, so they stay.
FAVICON = HERE / "assets" / "favicon.png"

# This session's language (?lang, the session's choice, the browser's), set for every `_` that
# this run calls: first, before anything is written.
i18n_state.apply()
st.set_page_config(page_title=_("CNN Playground"), page_icon=str(FAVICON), layout="wide")

navigation = st.navigation([
    st.Page(PAGES / "home.py", title=_("Home"), icon=":material/home:", default=True),
    st.Page(PAGES / "course.py", title=_("Course"), icon=":material/school:",
            url_path="course"),
    st.Page(PAGES / "shape_lab.py", title=_("Shape Lab"), icon=":material/straighten:",
            url_path="shape_lab"),
    st.Page(PAGES / "filter_lab.py", title=_("Filter Lab"), icon=":material/filter_b_and_w:",
            url_path="filter_lab"),
    st.Page(PAGES / "backprop.py", title=_("Backprop by hand"), icon=":material/undo:",
            url_path="backprop"),
    st.Page(PAGES / "training.py", title=_("Live Training"), icon=":material/monitoring:",
            url_path="training"),
    st.Page(PAGES / "inspector.py", title=_("Model Inspector"), icon=":material/biotech:",
            url_path="inspector"),
] + ([st.Page(PAGES / "teacher.py", title=_("Teacher"), icon=":material/co_present:",
              url_path="teacher")] if teacher_access.enabled() else []))
i18n_state.language_switch()
try:
    navigation.run()
finally:
    # After a page's first run its imports are done: take them out of the garbage collector's
    # full passes, which otherwise stall every session (see playground/heap.py).
    heap.freeze_after_imports()
