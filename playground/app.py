"""Entry point: ``streamlit run playground/app.py``. Routes to the page scripts in ``pages/``.

``streamlit run`` puts only ``playground/`` on sys.path, so the project root is inserted first
to make ``import playground.<module>`` work from every page.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from playground import heap  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="CNN Playground", page_icon=":material/grid_on:", layout="wide")

navigation = st.navigation([
    st.Page(PAGES / "home.py", title="Home", icon=":material/home:", default=True),
    st.Page(PAGES / "shape_lab.py", title="Shape Lab", icon=":material/straighten:",
            url_path="shape_lab"),
    st.Page(PAGES / "filter_lab.py", title="Filter Lab", icon=":material/filter_b_and_w:",
            url_path="filter_lab"),
    st.Page(PAGES / "training.py", title="Live Training", icon=":material/monitoring:",
            url_path="training"),
    st.Page(PAGES / "inspector.py", title="Model Inspector", icon=":material/biotech:",
            url_path="inspector"),
])
try:
    navigation.run()
finally:
    # After a page's first run its imports are done: take them out of the garbage collector's
    # full passes, which otherwise stall every session (see playground/heap.py).
    heap.freeze_after_imports()
