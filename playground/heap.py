"""Keep the garbage collector's full passes short in the long-running server process.

A full collection walks every container object the collector tracks, holding the GIL: while
it runs no session's script runs and the websocket sender stops. The server's imports leave
many such objects behind: ~120,000 for the labs (streamlit, pandas, pyarrow, plotly) and
~400,000 more once a page imports keras and TensorFlow. A full pass then took 0.25-0.5 s, and
with the Live Training page opened once a Shape Lab rerun went from ~0.15 s to ~0.6 s for
every user of the server. These objects are modules, classes and functions that live as long
as the process, so there is nothing in them to collect: ``gc.freeze()`` moves them to a
permanent generation that later passes skip.
"""
from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_modules_when_frozen = 0


def freeze_after_imports() -> bool:
    """If modules were imported since the last call: collect once, then exempt every object
    alive now from later collections. Returns whether it did.

    Meant to run after each script run. It acts only when ``sys.modules`` has grown (the first
    visit of each page), so it runs a bounded number of times in a process and freezes only
    what was alive then; objects of later runs are collected as usual.
    """
    global _modules_when_frozen
    with _lock:
        if len(sys.modules) == _modules_when_frozen:
            return False
        gc.collect()
        gc.freeze()
        _modules_when_frozen = len(sys.modules)
        return True
