"""``POST /api/v1/orders`` sustained over HTTP: the real API (``ecom serve`` under uvicorn, on a
fresh database, read models on, process managers off so only the command path is measured)
against a bare FastAPI app served the same way that validates the same pydantic body model
(``PlaceOrder``) and writes nothing, in the same run. Load comes from a separate process:
``--connections`` keep-alive connections, each sending its next order when the last is
answered. Prints orders/s and p50/p99 latency for each, then checks that nothing was lost:
orders acknowledged (201) = ``OrderPlaced`` events for those ids = rows in the orders read
model once it has caught up.

    python -m bench.http_orders --seconds 20 --connections 16 --workers 1
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from api.routes.orders import OrderAck, PlaceOrder
from bench.common import (
    api_server,
    bench_token,
    container_on,
    free_port,
    fresh_database,
    load_summary,
    machine,
    parser,
    run_load,
    served,
)

SKUS = 20
ORDER_BODY = {
    "customer_id": "__UUID__",
    "currency": "USD",
    "lines": [{"sku": "HTTP-000", "quantity": 2}, {"sku": "HTTP-007", "quantity": 1}],
    "shipping_address": {
        "name": "Ann Example",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
    "payment": {"method": "card", "token": "tok_visa"},
}


def bare_app():
    """The baseline: the same body model and status on a bare FastAPI app, nothing written.
    A sync handler, like the real one, so it runs in the same thread pool."""
    app = FastAPI(default_response_class=ORJSONResponse)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.post("/api/v1/orders", status_code=201, response_model=OrderAck)
    def place_order(body: PlaceOrder):
        return OrderAck(id=str(uuid.uuid4()), number=1, status="pending", version=1, position=1)

    return app


def bare_server(port: int, workers: int):
    command = ["-m", "uvicorn", "bench.http_orders:bare_app", "--factory", "--port", str(port)]
    return served([*command, "--log-level", "warning", "--workers", str(workers)], {}, port)


def setup_catalog(url: str) -> None:
    """Active, priced products for the SKUs the orders name; nothing else is needed to place."""
    from commands.context import CommandContext
    from domain.money import Money
    from domain.product.commands import ChangeLifecycle, CreateProduct

    with container_on(url) as c:
        ctx, send = CommandContext.new("bench"), c.dispatcher.handle
        for i in range(SKUS):
            sku, price = f"HTTP-{i:03d}", Money.of(Decimal("10.00"), "USD")
            product_id = send(CreateProduct(sku=sku, name=sku, price=price), ctx).stream_id
            send(ChangeLifecycle(product_id=product_id, status="pending_approval"), ctx)
            send(ChangeLifecycle(product_id=product_id, status="active"), ctx)


def order_load(port: int, connections: int, seconds: float, warmup: float) -> dict[str, Any]:
    return run_load(
        {
            "port": port,
            "connections": connections,
            "seconds": seconds,
            "warmup": warmup,
            "method": "POST",
            "paths": ["/api/v1/orders"],
            "headers": {"Authorization": f"Bearer {bench_token()}"},
            "body": orjson.dumps(ORDER_BODY),
            "collect_ids": True,
        }
    )


def check_nothing_lost(url: str, acked: list[str], timeout_s: float = 120) -> dict[str, int]:
    """Acknowledged = placed in the store = in the read model (waiting for it to catch up).
    No other order may be in the store either: nothing was written without an answer."""
    ids = [uuid.UUID(i) for i in acked]
    with psycopg.connect(url, autocommit=True) as conn:
        in_store = conn.execute(
            "SELECT count(*) FROM stored_events "
            "WHERE topic = 'order.OrderPlaced' AND originator_id = ANY(%s)",
            (ids,),
        ).fetchone()[0]
        all_placed = conn.execute(
            "SELECT count(*) FROM stored_events WHERE topic = 'order.OrderPlaced'"
        ).fetchone()[0]
        deadline = time.monotonic() + timeout_s
        while True:
            in_view = conn.execute(
                "SELECT count(*) FROM rm_order_summaries.order_summaries WHERE id = ANY(%s)",
                (ids,),
            ).fetchone()[0]
            if in_view >= len(set(ids)) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    counts = {
        "acknowledged": len(acked),
        "distinct": len(set(ids)),
        "in_store": in_store,
        "all_placed": all_placed,
        "in_view": in_view,
    }
    if not (len(acked) == len(set(ids)) == in_store == all_placed == in_view):
        raise AssertionError(f"orders lost or unacknowledged: {counts}")
    return counts


def measure(
    url: str, seconds: float, connections: int, workers: int, warmup: float
) -> dict[str, Any]:
    port = free_port()
    with bare_server(port, workers):
        bare = load_summary(order_load(port, connections, seconds, warmup))
    print(f"bare FastAPI, same body model, writes nothing: {bare}", flush=True)
    setup_catalog(url)
    port = free_port()
    with api_server(url, port, workers) as proc:
        raw = order_load(port, connections, seconds, warmup)
        ours = load_summary(raw)
        print(f"API (server pid {proc.pid}): {ours}", flush=True)
        counts = check_nothing_lost(url, raw["ids"])
    print(f"nothing lost: {counts}", flush=True)
    return {
        "ours": ours,
        "bare": bare,
        "counts": counts,
        "workers": workers,
        "connections": connections,
        "seconds": seconds,
    }


def table(r: dict[str, Any]) -> str:
    head = (
        f"POST /api/v1/orders, {r['connections']} keep-alive connections, "
        f"{r['seconds']:.0f} s, uvicorn workers {r['workers']}"
    )
    rows = [
        f"\n{head}\n",
        "| server | orders/s | p50 ms | p99 ms | answers |",
        "|---|---|---|---|---|",
    ]
    for name, s in (
        ("ecom API (stores the order)", r["ours"]),
        ("bare FastAPI (writes nothing)", r["bare"]),
    ):
        rows.append(
            f"| {name} | {s['rate']:,.0f} | {s['p50']:.1f} | {s['p99']:.1f} | {s['statuses']} |"
        )
    ratio = r["ours"]["rate"] / r["bare"]["rate"] if r["bare"]["rate"] else float("nan")
    c = r["counts"]
    rows.append(
        f"\nours/bare {ratio:.2f}; goal >= 1,000 orders/s, p99 <= 50 ms. Nothing lost: "
        f"{c['acknowledged']:,} acknowledged = {c['in_store']:,} OrderPlaced in the store "
        f"= {c['in_view']:,} rows in the orders read model"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers for both servers")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        r = measure(url, args.seconds, args.connections, args.workers, args.warmup)
    print(table(r), flush=True)
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
