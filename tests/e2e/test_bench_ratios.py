"""``python -m bench.ratios`` end to end in a tiny configuration (1-s windows, one hot-SKU
round, 1 s idle, a small history in our store) on the test PostgreSQL server: it exits 0, its
table has every figure row, the history was chained before the figures, and every order it
acknowledged was placed, reached the orders view and was confirmed or cancelled. Keeps the
benchmark from rotting; the figures themselves are not judged here."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

FIGURES = [
    "POST /orders req/s",
    "POST /orders p99 ms",
    "keeping up: all ",
    "GET /orders/{id} req/s",
    "GET /orders/{id} p99 ms",
    "placed → confirmed p50 ms",
    "placed → confirmed p99 ms",
    "idle CPU, `ecom serve`",
    "idle CPU, PostgreSQL (all its processes",
    "idle CPU, PostgreSQL backends of our database",
    "peak RSS over the run, API process, MB",
    "peak RSS over the run, background process, MB",
    "hot SKU, round 1 of 1",
]
COUNTS = re.compile(
    r"^(?P<what>the [\w -]+): (?P<acked>[\d,]+) acknowledged, (?P<placed>[\d,]+) placed, "
    r"(?P<in_view>[\d,]+) in the orders view, (?P<confirmed>[\d,]+) confirmed, "
    r"(?P<cancelled>[\d,]+) cancelled",
    re.MULTILINE,
)


def _n(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.timeout(120)
def test_the_ratio_benchmark_reports_every_figure_and_loses_no_order(database_url):
    tiny = ["--seconds", "1", "--paced-seconds", "1", "--idle-seconds", "1"]
    tiny += ["--rounds", "1", "--round-seconds", "1", "--connections", "4"]
    tiny += ["--history", "3000"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.ratios", "--url", database_url, *tiny],
        capture_output=True,
        text=True,
        timeout=110,
        # Small pools: two servers beside the test session's own stay within the test
        # server's connections (max_connections 100, shared with the session's containers).
        env={**os.environ, "ECOM_POOL_SIZE": "2"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for figure in FIGURES:
        assert any(row.startswith(f"| {figure}") for row in rows), (figure, rows)
    assert "History: 3,000 events in our store before it started" in done.stdout, done.stdout
    counts = {m["what"]: m for m in COUNTS.finditer(done.stdout)}
    assert set(counts) == {"the POST load", "the paced load", "the hot-SKU rounds"}, counts
    for what, m in counts.items():
        assert _n(m["acked"]) > 0, what
        assert _n(m["placed"]) >= _n(m["acked"]), what
        assert _n(m["in_view"]) == _n(m["placed"]), what
        assert _n(m["confirmed"]) + _n(m["cancelled"]) == _n(m["placed"]), what
        assert _n(m["confirmed"]) > 0, what
