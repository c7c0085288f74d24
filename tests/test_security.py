"""Safety settings that must stay on, and page code that must not render user text as HTML."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def test_config_keeps_xsrf_on_and_limits_uploads():
    config = _config(ROOT / ".streamlit" / "config.toml")
    assert config["server"]["enableXsrfProtection"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 50
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_entry_folder_reads_the_same_config():
    # Streamlit reads the entry script's folder too, and that copy wins: it must be the same.
    entry_copy = ROOT / "playground" / ".streamlit" / "config.toml"
    assert _config(entry_copy) == _config(ROOT / ".streamlit" / "config.toml")


def test_pages_never_render_html_from_strings():
    offenders = []
    for script in sorted((ROOT / "pages").glob("*.py")):
        text = script.read_text()
        for pattern in (r"unsafe_allow_html\s*=\s*True", r"\bst\.html\(",
                        r"components\.html\("):
            if re.search(pattern, text):
                offenders.append(f"{script.name}: {pattern}")
    assert offenders == []
