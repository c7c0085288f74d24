"""No English word reaches the screen without ``_``: an AST check over ``pages/`` and
``playground/charts/``.

What is checked (where a text is written as a literal in the call itself):
- Streamlit elements (``st.title``, ``cols[0].number_input``, ``left.metric``, …): the label or
  body (first argument), and the ``label``, ``body``, ``help``, ``caption``, ``placeholder``,
  ``title`` and ``page_title`` keywords; ``st.tabs``' list of labels; ``st.page_link`` and
  ``st.Page`` only by keyword (their first argument is a path).
- ``st.column_config.*Column``: the label and ``help``.
- Options shown as they are: a ``radio`` / ``selectbox`` / ``multiselect`` / ``select_slider``
  / ``segmented_control`` / ``pills`` given a literal list of words and no ``format_func``.
- Figures: the keywords ``title``, ``text``, ``name``, ``label``, ``hovertemplate``,
  ``xaxis_title``, ``yaxis_title``, ``legend_title``, ``title_text`` of any call
  (``dict(text=…)``, ``fig.update_layout(…)``, ``go.Heatmap(…)``), and the same keys in dict
  literals (``{"title": …}``).

A literal passes when it holds no word: markup (``<br>``, ``<extra></extra>``), placeholders
(``{row}``, ``%{y}``), icons (``:material/edit:``), inline code (`` `…` ``), numbers, symbols
and single letters are not words; nor are the technical names of ``TECHNICAL`` (docs/glossary.md
keeps them in Latin letters), nor Python code (a literal that starts by assigning a call, as an
example in a code box's placeholder). An f-string is checked by its literal parts, ``a + b`` and
``x if c else y`` by their parts. Anything else — ``_(…)``, a variable, another function's
result — is trusted: the check finds literals written where a translated text belongs, which is
how an untranslated text gets in. (The values given to ``_``'s own placeholders are not checked:
they are numbers, shapes and technical names.)

Each file is its own test case, so every page's owner sees their own misses.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

FILES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "playground" / "charts").glob("*.py")])

# Streamlit's elements whose first argument is shown text.
ELEMENTS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning",
    "error", "success", "toast", "button", "link_button", "download_button",
    "form_submit_button", "radio", "selectbox", "multiselect", "slider", "select_slider",
    "number_input", "text_input", "text_area", "checkbox", "toggle", "file_uploader",
    "camera_input", "color_picker", "date_input", "time_input", "metric", "expander",
    "popover", "spinner", "status", "segmented_control", "pills", "feedback", "chat_input",
    "dialog", "audio_input",
}
# Shown only by keyword (the first argument is a page's path).
KEYWORD_ONLY = {"page_link", "Page", "set_page_config"}
TEXT_KEYWORDS = {"label", "body", "help", "caption", "placeholder", "title", "page_title"}
OPTION_WIDGETS = {"radio", "selectbox", "multiselect", "select_slider", "segmented_control",
                  "pills"}
FIGURE_KEYS = {"title", "text", "name", "label", "hovertemplate", "xaxis_title", "yaxis_title",
               "legend_title", "title_text"}
# Not Streamlit, though the method names match.
NOT_STREAMLIT = {"logging", "logger", "log", "sys", "os", "warnings", "file", "handle", "re"}
# Technical names that stay in Latin letters in every language (docs/glossary.md), and the
# units and formats written beside numbers.
TECHNICAL = {
    "SAME", "VALID", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPool2D", "AveragePool2D", "GlobalAveragePooling2D", "Dense", "Flatten", "Dropout",
    "BatchNorm", "ReLU", "relu", "sigmoid", "softmax", "tanh", "Adam", "SGD", "RMSprop",
    "Keras", "TensorFlow", "MNIST", "Fashion-MNIST", "CIFAR-10", "Grad-CAM", "HiResCAM",
    "Sobel", "RGB", "PNG", "JPEG", "px", "MB", "KB", "GB", "ms", "dtype", "keras", "h5",
    "tf", "np", "gx", "gy",
}
_NOT_WORDS = re.compile(r"<[^<>]*>|%\{[^}]*\}|\{[^{}]*\}|:material/[a-z_]+:|`[^`]*`")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]")
# Python code shown as an example (a text box's placeholder): a line assigning a call.
_CODE = re.compile(r"^\s*[A-Za-z_]\w* = [A-Za-z_][\w.]*\(")


def words(text: str) -> list[str]:
    """The words of a literal that a reader would need translated (none in code)."""
    if _CODE.match(text):
        return []
    return [word for word in _WORD.findall(_NOT_WORDS.sub(" ", text))
            if word not in TECHNICAL and word.rstrip(".") not in TECHNICAL]


def _literal_words(node: ast.AST) -> list[str]:
    """The untranslated words a shown expression writes as literals ([] when none)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return words(node.value)
    if isinstance(node, ast.JoinedStr):
        return [w for part in node.values if isinstance(part, ast.Constant)
                for w in words(str(part.value))]
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) + _literal_words(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_words(node.body) + _literal_words(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [w for item in node.elts for w in _literal_words(item)]
    return []


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_translation(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")


def misses(source: str) -> list[str]:
    """'line: words' for every literal that reaches the screen untranslated."""
    found = []

    def report(node: ast.AST, where: str) -> None:
        bad = _literal_words(node)
        if bad:
            found.append((node.lineno, f"{node.lineno}: {where}: "
                                       f"{' '.join(dict.fromkeys(bad))}"))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in FIGURE_KEYS:
                    report(value, f"figure {key.value}")
        if not isinstance(node, ast.Call) or _is_translation(node):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else None
        streamlit = isinstance(func, ast.Attribute) and _root(func) not in NOT_STREAMLIT
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if streamlit and (name in ELEMENTS or name in KEYWORD_ONLY
                          or (name or "").endswith("Column")):
            if name not in KEYWORD_ONLY and node.args:
                report(node.args[0], name)
            for key in TEXT_KEYWORDS & set(keywords):
                report(keywords[key], f"{name} {key}")
            if name in OPTION_WIDGETS and "format_func" not in keywords:
                options = keywords.get("options", node.args[1] if len(node.args) > 1 else None)
                if options is not None:
                    report(options, f"{name} options")
            continue
        if streamlit and name == "tabs" and node.args:
            report(node.args[0], "tabs")
            continue
        for key in FIGURE_KEYS & set(keywords):
            report(keywords[key], f"figure {key}")
    return [text for _line, text in sorted(found)]


def test_the_checker_finds_real_misses_and_passes_translated_text():
    source = '''
st.title("Shape Lab")                                   # 2: a title
cols[0].number_input("Stride", key="sl_s")              # 3: a column's widget
st.caption(f"stack {shape} (H×W×filters)")              # 4: an f-string's words
st.radio(_("Picture"), ["Bundled", "Upload"])           # 5: options shown as they are
st.column_config.TextColumn("size", help=_("a size"))   # 6: a table header
layout = dict(title=dict(text="Output " + size))        # 7: a figure title
trace = dict(hovertemplate="row %{y}<extra>input</extra>")  # 8: a hover text
fig.update_layout(xaxis_title="epoch")                  # 9: an axis title
st.info("Loaded." if ok else _("Failed."))              # 10: one branch of two
spec = {"name": "loss", "x": 1}                         # 11: a legend entry
st.title(_("Shape Lab"))
st.caption(_("stack {shape} (H×W×filters)", shape=s))
st.radio(_("Picture"), ["Bundled", "Upload"], format_func=label)
st.radio(_("Channel"), ["R", "G", "B"])
st.markdown("---")
st.markdown(f"**{_('Pooling')}**")
st.button(_("Go"), key="fl_go", icon=":material/edit:")
st.page_link(HERE / "training.py", label=_("Live Training"))
layout = dict(title=dict(text=_("Output {size}", size=size)))
trace = dict(hovertemplate=_("row %{y}") + "<extra></extra>", name="SAME")
st.metric(_("Total"), f"{total:,}")
st.markdown(f"`{formula}`")
logger.error("not shown on a page")
st.text_area(_("Code"), placeholder="model = keras.Sequential()\\nmodel.add(...)")
'''
    assert [line.split(":")[0] for line in misses(source)] == [
        "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]
    assert misses(source)[0] == "2: title: Shape Lab"
    assert misses(source)[6] == "8: figure hovertemplate: row input"   # %{y} is no word


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_untranslated_literal_reaches_the_screen(path: Path):
    found = misses(path.read_text(encoding="utf-8"))
    assert found == [], (f"{path.relative_to(ROOT)}: wrap these in _() (or add a technical "
                         f"name to TECHNICAL):\n" + "\n".join(found))
