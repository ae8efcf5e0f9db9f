"""``GET /api/v1/orders/{id}`` over HTTP (ids of orders placed first, read from the order detail
view, with an admin's bearer token through the gateway) against ``GET /api/v1/health`` on the
same server in the same run (public: no token, no database). The real API under uvicorn
(``ecom serve``) on a fresh database, process managers off; load from a separate process over
``--connections`` keep-alive connections. Prints req/s and p50/p99 latency for each.

    python -m bench.http_reads --seconds 15 --connections 16 --workers 1
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg

from bench.common import (
    api_server,
    bench_token,
    free_port,
    fresh_database,
    load_summary,
    machine,
    parser,
    run_load,
)
from bench.http_orders import order_load, setup_catalog


def wait_for_details(url: str, ids: list[str], timeout_s: float = 120) -> None:
    wanted = [uuid.UUID(i) for i in ids]
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            seen = conn.execute(
                "SELECT count(*) FROM rm_order_detail.order_detail WHERE id = ANY(%s)", (wanted,)
            ).fetchone()[0]
            if seen == len(wanted):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"order detail view has {seen} of {len(wanted)} orders")
            time.sleep(0.2)


def read_load(
    port: int, paths: list[str], connections: int, seconds: float, token: bool, once: bool = False
):
    """``paths`` cycled for ``seconds`` after a second's warm-up; with ``once``, each path sent
    once from the start (no warm-up)."""
    headers = {"Authorization": f"Bearer {bench_token()}"} if token else {}
    return run_load(
        {
            "port": port,
            "connections": connections,
            "seconds": 3600.0 if once else seconds,
            "once": once,
            "warmup": 0.0 if once else 1.0,
            "method": "GET",
            "paths": paths,
            "headers": headers,
            "body": None,
        }
    )


def measure(
    url: str, seconds: float, connections: int, workers: int, place_s: float
) -> dict[str, Any]:
    setup_catalog(url)
    port = free_port()
    with api_server(url, port, workers):
        placed = order_load(port, 8, place_s, 0.0)["ids"]
        wait_for_details(url, placed)
        print(f"{len(placed):,} orders placed and in the order detail view", flush=True)
        paths = [f"/api/v1/orders/{i}" for i in placed]
        order = load_summary(read_load(port, paths, connections, seconds, token=True))
        print(f"GET /api/v1/orders/{{id}}: {order}", flush=True)
        health = load_summary(read_load(port, ["/api/v1/health"], connections, seconds, False))
        print(f"GET /api/v1/health: {health}", flush=True)
    return {
        "order": order,
        "health": health,
        "orders": len(placed),
        "workers": workers,
        "connections": connections,
        "seconds": seconds,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        f"\nreads, {r['connections']} keep-alive connections, {r['seconds']:.0f} s each, "
        f"uvicorn workers {r['workers']}, {r['orders']:,} orders\n",
        "| request | req/s | p50 ms | p99 ms | answers |",
        "|---|---|---|---|---|",
    ]
    for name, s in (("GET /api/v1/orders/{id}", r["order"]), ("GET /api/v1/health", r["health"])):
        rows.append(
            f"| {name} | {s['rate']:,.0f} | {s['p50']:.1f} | {s['p99']:.1f} | {s['statuses']} |"
        )
    ratio = r["order"]["rate"] / r["health"]["rate"] if r["health"]["rate"] else float("nan")
    rows.append(f"\norder/health {ratio:.2f}; goal >= 3,000 req/s, p99 <= 20 ms")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=15.0, help="measured seconds per request")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    p.add_argument("--place-seconds", type=float, default=3.0, help="seconds of placing first")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        r = measure(url, args.seconds, args.connections, args.workers, args.place_seconds)
    print(table(r), flush=True)
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
