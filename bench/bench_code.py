"""How long network_from_code takes to read pasted code (no bar in the issue; the page reads on
a button click, so anything well under 100 ms is unnoticed).

Times, in one process, the course's snippets (tests/data/snippets), the largest text it accepts
(a snippet padded to MAX_CHARS with comments, and 20,000 characters of one deep expression it
refuses), median and worst of ``--runs`` repetitions each, CPU time (the machine is shared).

    python bench/bench_code.py [--runs 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.code import MAX_CHARS, network_from_code  # noqa: E402

SNIPPETS = ROOT / "tests" / "data" / "snippets"


def cases() -> dict[str, str]:
    out = {path.name: path.read_text() for path in sorted(SNIPPETS.glob("*.py"))}
    deep = (SNIPPETS / "tf1_deep_cnn.py").read_text()
    padding = "# " + "x" * 97 + "\n"
    out["tf1_deep_cnn.py + comments to MAX_CHARS"] = \
        padding * ((MAX_CHARS - len(deep)) // len(padding)) + deep
    out["one long sum (refused: too deep)"] = "x = " + "a+" * ((MAX_CHARS - 10) // 2) + "1"
    out["900 statements (no network)"] = "x = tf.zeros([3, 3])\n" * 900
    return out


def time_one(text: str) -> float:
    start = time.process_time()
    try:
        network_from_code(text)
    except ValueError:
        pass
    return time.process_time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    print(f"{'code':45s} {'chars':>7s} {'median ms':>10s} {'worst ms':>9s}")
    for name, text in cases().items():
        times = [time_one(text) * 1000 for _ in range(runs)]
        print(f"{name:45s} {len(text):7,d} {statistics.median(times):10.2f} {max(times):9.2f}")


if __name__ == "__main__":
    main()
