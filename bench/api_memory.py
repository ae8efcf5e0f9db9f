"""API process memory with a large event store: N synthetic events are COPYed into a fresh
database (plus a small catalog), the API is started on it as deployed (``ecom serve``, one
worker, read models, the audit chainer and the process managers in the same process), left to
catch up (every view and the hash chain at the head), then a few endpoints are hit (orders
placed over HTTP, an order read, lists, the feed, status). RSS (``VmRSS``) and its peak
(``VmHWM``) of the server process come from ``/proc/<pid>/status``; beside them, the same API
started on an empty store in the same run.

    python -m bench.api_memory --events 1000000
"""

from __future__ import annotations

import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg

from bench.common import (
    api_server,
    bench_token,
    container_on,
    free_port,
    fresh_database,
    machine,
    meta,
    parser,
    rate,
    tick,
)
from bench.http_orders import order_load, setup_catalog

EVENTS_PER_STREAM = 100


def fill(url: str, events: int) -> float:
    """COPY ``events`` synthetic events (``EVENTS_PER_STREAM`` per stream) into the event table;
    returns the seconds taken. Every row is a real stored event of the benchmarks' own type."""
    with container_on(url) as c:
        template = c.store.mapper.to_stored(uuid.uuid4(), 1, tick(0), meta())
    topic, state = template.topic, template.state
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY stored_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy:
            stream = None
            for n in range(events):
                version = n % EVENTS_PER_STREAM + 1
                if version == 1:
                    stream = uuid.uuid4()
                copy.write_row((stream, version, topic, state))
    return time.perf_counter() - started


def memory(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def _get(port: int, path: str, token: str) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        return orjson.loads(r.read())


def caught_up(url: str, port: int, token: str) -> bool:
    views = _get(port, "/api/v1/projections", token)
    with psycopg.connect(url, autocommit=True) as conn:
        head, chained = conn.execute(
            "SELECT (SELECT coalesce(max(notification_id), 0) FROM stored_events), "
            "(SELECT coalesce(max(position), 0) FROM event_chain)"
        ).fetchone()
    return all(v["lag"] == 0 for v in views) and chained >= head


def run_api(url: str, timeout_s: float) -> dict[str, Any]:
    """Start the API on ``url``; wait for it to catch up; hit endpoints; read its memory."""
    token = bench_token()
    port = free_port()
    with api_server(url, port, 1, ECOM_RUN_PROCESSES="1") as proc:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        while not caught_up(url, port, token):
            if time.monotonic() > deadline:
                raise TimeoutError("the API did not catch up in time")
            time.sleep(0.5)
        catch_up_s = time.perf_counter() - started
        after_catch_up = memory(proc.pid)
        placed = order_load(port, 4, 2.0, 0.0)["ids"]
        for order_id in placed[:50]:
            _get(port, f"/api/v1/orders/{order_id}", token)
        for path in (
            "/api/v1/orders?limit=100",
            "/api/v1/events?limit=500",
            "/api/v1/products?limit=100",
            "/api/v1/projections",
            "/api/v1/ready",
        ):
            _get(port, path, token)
        _get_text(port, "/api/v1/metrics", token)
        time.sleep(1.0)  # let the views and the sagas take the new orders
        after_requests = memory(proc.pid)
    return {
        "catch_up_s": catch_up_s,
        "after_catch_up": after_catch_up,
        "after_requests": after_requests,
        "orders": len(placed),
    }


def _get_text(port: int, path: str, token: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read().decode()


def measure(server_url: str, events: int, keep: bool, timeout_s: float) -> dict[str, Any]:
    with fresh_database(server_url, keep) as url:
        setup_catalog(url)
        empty = run_api(url, timeout_s)
    print(f"API on an empty store: {empty}", flush=True)
    with fresh_database(server_url, keep) as url:
        setup_catalog(url)
        fill_s = fill(url, events)
        print(f"COPYed {events:,} events in {fill_s:.1f} s ({rate(events, fill_s)})", flush=True)
        full = run_api(url, timeout_s)
    print(f"API on {events:,} events: {full}", flush=True)
    return {"events": events, "full": full, "empty": empty, "fill_s": fill_s}


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def table(r: dict[str, Any]) -> str:
    rows = [
        "\nAPI process memory (one uvicorn worker with read models, chainer and sagas)\n",
        "| store | catch-up | VmRSS after catch-up | VmRSS after requests | VmHWM (peak) |",
        "|---|---|---|---|---|",
    ]
    for name, s in ((f"{r['events']:,} events", r["full"]), ("empty", r["empty"])):
        rows.append(
            f"| {name} | {s['catch_up_s']:.1f} s | {_mib(s['after_catch_up']['VmRSS'])} "
            f"| {_mib(s['after_requests']['VmRSS'])} | {_mib(s['after_requests']['VmHWM'])} |"
        )
    rows.append("\ngoal: RSS < 300 MB with 1,000,000 events stored")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed to catch up")
    args = p.parse_args(argv)
    with fresh_database(args.url) as url:
        print(machine(url), flush=True)
    r = measure(args.url, args.events, args.keep, args.timeout)
    print(table(r), flush=True)
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
