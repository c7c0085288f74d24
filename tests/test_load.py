"""Ten browser sessions use the Shape Lab while two trainings run on the same server.

Correctness under load, not speed (the figures come from bench/bench_load.py): every
interaction is answered, every session only ever sees its own numbers, both trainings make
progress, and the server is still up afterwards.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.bench_load import run_browser_load

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ten_sessions_and_two_trainings_stay_separate_and_answered(streamlit_server):
    # The session's sync Playwright fixtures keep an event loop running in this thread, so the
    # async load runs on a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(asyncio.run, run_browser_load(
            streamlit_server, sessions=10, interactions=3, trainings=2, train_examples=2000,
            epochs=20, answer_timeout_ms=60_000)).result()
    assert result.trainings_started == 2
    assert result.trainings_progressed == 2
    assert result.failures == []
    assert result.wrong_state == []
    assert len(result.latencies) == 10 * 3
    # The server answers a health check after the load.
    import urllib.request
    with urllib.request.urlopen(streamlit_server + "/_stcore/health", timeout=10) as reply:
        assert reply.status == 200
