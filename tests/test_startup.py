"""Start-up: no page pays for TensorFlow (its import takes seconds) before it needs a model.

One test over every page in pages/: the page is opened as a new visitor opens it (the entry
script, then the page, default address), in a fresh interpreter so that sys.modules tells
exactly what opening it imported.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import APP, ROOT

PAGES = sorted(path.name for path in (ROOT / "pages").glob("*.py"))
# What a visitor must be able to use at once, TensorFlow or not.
BUTTONS = {"training.py": "Start training"}
# Pages that show a trained model on a first visit, so they need TensorFlow at once: the
# Inspector opens on the pretrained MNIST model when there is no saved run (issue 13).
SHOWS_A_MODEL = {"inspector.py"}


@pytest.mark.parametrize("page", PAGES)
def test_opening_the_page_imports_neither_tensorflow_nor_keras(page):
    script = textwrap.dedent(f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(APP)!r}, default_timeout=120)
        at.run()
        at.switch_page({str(ROOT / "pages" / page)!r})
        at.run()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print(json.dumps({{"exceptions": [str(e.value) for e in at.exception],
                          "titles": [t.value for t in at.title], "loaded": loaded[:5],
                          "buttons": [b.label for b in at.button]}}))
    """)
    env = dict(os.environ)
    if page == "teacher.py":   # in the navigation only when a teacher password is set
        env["PLAYGROUND_TEACHER_PASSWORD"] = "a long classroom password"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=240, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["exceptions"] == []
    assert report["titles"], f"{page} shows no title"
    if page not in SHOWS_A_MODEL:
        assert report["loaded"] == []
    if page in BUTTONS:
        assert BUTTONS[page] in report["buttons"]
