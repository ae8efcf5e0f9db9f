"""Closed-loop HTTP load for ``bench/ratios.py``: ``wrk -t1`` with the scripts in ``bench/wrk``
when ``wrk`` is on the PATH, else the Python load generator of ``bench/common.py``. Both give
one ``Load``: requests per second, p50 and p99, non-2xx answers and socket errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.common import percentile, run_load

SCRIPTS = Path(__file__).parent / "wrk"
RESULT = re.compile(
    r"RESULT rps=(?P<rps>[\d.]+) p50_ms=(?P<p50>[\d.]+) p99_ms=(?P<p99>[\d.]+) "
    r"non2xx=(?P<non2xx>\d+) errors=(?P<errors>\d+)"
)
COMPLETED = re.compile(r"REQUESTS completed=(\d+)")


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    errors: int
    completed: int  # answered requests, 2xx or not
    tool: str
    statuses: dict[int, int] | None = None  # per status code (the Python generator only)

    @property
    def ok(self) -> int:
        return self.completed - self.non2xx


def order_body(sku: str, customer: str) -> dict:
    """The order the wrk script sends: one SKU, one unit, the sandbox card that approves."""
    return {
        "customer_id": customer,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": {
            "name": "Bench",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
        "payment": {"method": "card", "token": "tok_visa"},
    }


def use_wrk(tool: str) -> bool:
    """``tool``: "wrk", "python", or "auto" (wrk when it is on the PATH)."""
    if tool == "auto":
        return shutil.which("wrk") is not None
    return tool == "wrk"


def _wrk(script: str, port: int, seconds: float, connections: int, env: dict[str, str]) -> Load:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",  # a slow answer is measured, not dropped as a timeout
        "-s",
        str(SCRIPTS / script),
        f"http://127.0.0.1:{port}",
    ]
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    result, completed = RESULT.search(done.stdout), COMPLETED.search(done.stdout)
    if done.returncode != 0 or result is None or completed is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    return Load(
        rps=float(result["rps"]),
        p50_ms=float(result["p50"]),
        p99_ms=float(result["p99"]),
        non2xx=int(result["non2xx"]),
        errors=int(result["errors"]),
        completed=int(completed[1]),
        tool="wrk",
    )


def _python(spec: dict) -> Load:
    raw = run_load({"warmup": 0.0, **spec})
    statuses, latencies = raw["statuses"], raw["latencies_ms"]
    completed = sum(statuses.values())
    return Load(
        rps=completed / raw["measured_s"],
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        non2xx=sum(n for status, n in statuses.items() if not 200 <= status < 300),
        errors=0,
        completed=completed,
        tool="python",
        statuses=statuses,
    )


def post_orders(
    port: int,
    prefix: str,
    sku: str,
    token: str,
    seconds: float,
    connections: int,
    tool: str = "auto",
) -> Load:
    """``POST {prefix}/orders`` for ``seconds`` over ``connections`` keep-alive connections."""
    if use_wrk(tool):
        env = {"SKU": sku, "TOKEN": token, "PATH_PREFIX": prefix}
        return _wrk("post_order.lua", port, seconds, connections, env)
    return _python(
        {
            "port": port,
            "connections": connections,
            "seconds": seconds,
            "method": "POST",
            "paths": [f"{prefix}/orders"],
            "headers": {"Authorization": f"Bearer {token}"},
            "body": orjson.dumps(order_body(sku, "__UUID__")),
        }
    )


def get_path(
    port: int, path: str, token: str, seconds: float, connections: int, tool: str = "auto"
) -> Load:
    if use_wrk(tool):
        env = {"GET_PATH": path, "TOKEN": token}
        return _wrk("get_path.lua", port, seconds, connections, env)
    return _python(
        {
            "port": port,
            "connections": connections,
            "seconds": seconds,
            "method": "GET",
            "paths": [path],
            "headers": {"Authorization": f"Bearer {token}"},
            "body": None,
        }
    )
