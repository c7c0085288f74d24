"""The house plan as a test: imports run one way, pages -> wings -> core / datasets / charts.

Every module under playground/ and pages/ is parsed (never imported) and each of its imports,
at module level or inside a function, is checked against the layers of docs/ARCHITECTURE.md.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

WINGS = ("shape_lab", "filter_lab", "training", "inspector", "course", "backprop", "teacher")
BASE = ("core", "datasets", "charts", "settings", "i18n")   # what every wing and page builds on
# The one module besides the entry that may import streamlit: the session's language
# (docs/ARCHITECTURE.md). Only app.py imports it.
STREAMLIT_HELPERS = ("playground.i18n_state",)
HEAVY = ("tensorflow", "keras")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "playground").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in sorted((ROOT / "pages").glob("*.py")):
        found[f"pages.{path.stem}"] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in the file; ``from a import b``
    gives ``a.b`` when that is a module of ours, else ``a``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                out.append((name if name in MODULES else node.module, id(node) in top_level))
    return out


def _layer(module: str) -> str:
    """'page', 'app', 'heap', 'i18n_state', a wing's name, or one of BASE."""
    parts = module.split(".")
    if parts[0] == "pages":
        return "page"
    if len(parts) == 1:
        return "package"
    return parts[1]


def _ours(name: str) -> bool:
    return name.split(".")[0] in ("playground", "pages")


ALLOWED = {
    "page": set(WINGS) | set(BASE),
    "app": {"heap", "i18n", "i18n_state", "teacher"},   # the Teacher page only when enabled
    "heap": set(),
    "i18n": set(),
    "i18n_state": {"i18n"},
    "package": set(),
    **{wing: {wing, *BASE} for wing in WINGS},
    # The course runs the labs' own computations (never copies of them) for its lessons.
    "course": {"course", "shape_lab", "filter_lab", "inspector", *BASE},
    # The teacher's board lists and stops the training backend's runs.
    "teacher": {"teacher", "training", *BASE},
    "core": {"core", "i18n"},
    "settings": {"i18n"},
    "datasets": {"datasets", "core", "i18n"},
    "charts": {"charts", "core", "i18n"},
}


def test_every_module_is_in_a_known_layer():
    assert {_layer(m) for m in MODULES} <= set(ALLOWED)
    assert set(WINGS) <= {_layer(m) for m in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way(module):
    layer = _layer(module)
    wrong = [name for name, _ in _imports(MODULES[module])
             if _ours(name) and name != "playground" and _layer(name) not in ALLOWED[layer]]
    assert wrong == [], f"{module} ({layer}) may import only {sorted(ALLOWED[layer])}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_entry_imports_streamlit(module):
    if module in ("playground.app", *STREAMLIT_HELPERS) or module.startswith("pages."):
        return
    assert not [n for n, _ in _imports(MODULES[module]) if n.split(".")[0] == "streamlit"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in (*BASE, "page")))
def test_no_tensorflow_at_module_level_below_the_wings_or_in_pages(module):
    heavy = [n for n, top in _imports(MODULES[module]) if top and n.split(".")[0] in HEAVY]
    assert heavy == [], f"{module} imports {heavy} when it is imported"


def test_no_import_cycles_between_modules():
    graph = {m: {n for n, top in _imports(p) if top and n in MODULES and n != m}
             for m, p in MODULES.items()}
    state: dict[str, int] = {}   # 1: on the current path, 2: done

    def visit(module, path):
        state[module] = 1
        for nxt in sorted(graph[module]):
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join(path + [module, nxt]))
            if nxt not in state:
                visit(nxt, path + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
