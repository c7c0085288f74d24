"""playground.heap: the server's imports are frozen out of the garbage collector's passes."""
import subprocess
import sys
import textwrap

from tests.helpers import ROOT


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_freezes_once_per_wave_of_imports():
    out = _run("""
        import gc
        from playground import heap
        first = heap.freeze_after_imports()
        frozen = gc.get_freeze_count()
        again = heap.freeze_after_imports()
        import plotly.graph_objects  # a new wave of imports
        third = heap.freeze_after_imports()
        print(first, again, third, frozen > 0, gc.get_freeze_count() > frozen)
    """)
    assert out == "True False True True True"


def test_the_app_freezes_a_pages_imports_after_its_run():
    # TensorFlow's ~400,000 objects end up frozen once a page run has imported it (the server
    # imports it when a run is evaluated or a model inspected); left to the collector, each full
    # pass over them stalled every session for 0.25-0.5 s.
    out = _run("""
        import gc
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("playground/app.py", default_timeout=120)
        at.run()
        after_home = gc.get_freeze_count()
        import tensorflow  # what a page that loads a model brings into the server
        added = len(gc.get_objects())
        at.switch_page("../pages/shape_lab.py")
        at.run()
        frozen = gc.get_freeze_count()
        print(after_home > 0, frozen - after_home >= 0.9 * added,
              len(gc.get_objects()) < 0.25 * frozen)
    """)
    assert out == "True True True"
