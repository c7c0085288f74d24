"""No request leaves the machine: every page, opened in Chromium against a real `streamlit run`,
asks only the server itself for its scripts, fonts, favicon, pictures and websocket."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.helpers import wait_for_app

# url_path of every page in playground/app.py's navigation ("" is the home page).
PAGES = ["", "shape_lab", "filter_lab", "training", "inspector"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _foreign(url: str) -> bool:
    parts = urlsplit(url)
    # data: and blob: URLs (an emoji favicon, plotly's heatmap images) never reach a network.
    return parts.scheme not in {"data", "blob", "about"} and parts.hostname not in LOCAL_HOSTS


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES, ids=[p or "home" for p in PAGES])
def test_every_request_goes_to_the_local_server(page, streamlit_server, path):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))
    page.goto(f"{streamlit_server}/{path}")
    wait_for_app(page, timeout=120_000)
    # Late assets: plotly's lazily loaded chunk, fonts asked for by drawn text, the favicon
    # that set_page_config swaps in after the first run.
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_timeout(1500)
    favicon = page.evaluate(
        "() => document.querySelector(\"link[rel='shortcut icon']\")?.href || ''")

    assert requests, "the page made no requests at all: nothing was recorded"
    assert any("/_stcore/stream" in url for url in requests), requests
    assert [url for url in requests if _foreign(url)] == []
    assert not _foreign(favicon), favicon
    # set_page_config's picture replaced Streamlit's default favicon
    assert "/media/" in favicon, favicon
