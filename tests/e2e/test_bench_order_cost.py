"""``python -m bench.order_cost`` end to end in a tiny configuration (one rate, 1 s) on the
test PostgreSQL server: it exits 0 and its table has a row for the rate with every figure.
Keeps the benchmark from rotting; the figures themselves are not judged here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.timeout(150)
def test_the_order_cost_benchmark_reports_a_row_per_rate(database_url):
    done = subprocess.run(
        [sys.executable, "-m", "bench.order_cost", "--url", database_url]
        + ["--rates", "10", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=140,
        env={**os.environ, "ECOM_POOL_SIZE": "2"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 10 |")]
    assert len(rows) == 1, done.stdout[-3000:]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert len(cells) == 12 and all(cells), cells
    assert "nan" not in rows[0], rows[0]
