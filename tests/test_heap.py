"""playground.heap: the server's imports are frozen out of the garbage collector's passes."""
import subprocess
import sys
import textwrap

from tests.conftest import ROOT


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
    # TensorFlow's ~400,000 objects end up frozen once the training page has run; left to the
    # collector, each full pass over them stalled every session for 0.25-0.5 s.
    out = _run("""
        import gc
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("playground/app.py", default_timeout=120)
        at.switch_page("../pages/training.py")
        at.run()
        import sys
        print("tensorflow" in sys.modules, gc.get_freeze_count() > 300_000,
              len(gc.get_objects()) < 300_000)
    """)
    assert out == "True True True"
