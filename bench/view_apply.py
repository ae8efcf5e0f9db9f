"""Per-view apply throughput on a real order flow: events per second each read model's
``apply`` takes, in batches the size of a live pass, for the views the live loop spends most
of its time in under ``POST /orders`` load.

``--orders`` orders are placed through the command layer and the process managers handle
them (placed, reserved, authorized, confirmed, plans, notifications), as under live load.
Then, for each view, its events are fetched and decoded once, and applied to a fresh schema
of its own in batches of ``--batch`` events, one transaction per batch (as a live pass);
only ``apply`` is timed, in wall time and in CPU time (this thread's, plus the server
backend's when the server runs on this machine: under load the two cores are the limit, so
the CPU an event costs is the figure that says how many the background keeps up with). Each
view runs ``--repeat`` times on a fresh schema; the best run is reported. Compare a view's
figures before and after a change in the same session (wall times move with the machine's
load; CPU times far less).

    python -m bench.view_apply --orders 300 --batch 90 --repeat 3
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from psycopg import sql
from psycopg.rows import dict_row

from bench.common import container_on, fresh_database, machine, parser
from bench.saga import ADDRESS, _setup
from commands.context import CommandContext
from commands.process_manager import Trigger
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import PaymentRef

VIEWS = (
    "customers",
    "analytics_orders",
    "order_detail",
    "pick_list",
    "order_summaries",
    "order_search",
    "order_timeline",
    "recommendations",
    "payments_ledger",
)


def _place(container, sku: str) -> None:  # noqa: ANN001
    """A guest's order with a contact email (so its confirmation is told by email)."""
    container.dispatcher.handle(
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
            contact_email="guest@example.com",
        ),
        CommandContext.new("bench"),
    )


def place(container, skus: list[str], orders: int) -> None:  # noqa: ANN001
    for i in range(orders):
        _place(container, skus[i % len(skus)])
        if i % 50 == 49:
            container.processes.catch_up()
    container.processes.catch_up()


def apply_view(container, name: str, batch: int, repeat: int) -> dict[str, Any]:  # noqa: ANN001
    runner = container.runner
    p = runner.projections[name]
    with container.pool.connection() as conn:
        rows = runner._fetch(conn, 0, container.store.head(), list(p.topics), 10**9)
    events = container.store.mapper.to_recorded_many(rows)
    schema = f"bench_apply_{name}"
    best = cpu = float("inf")
    for _ in range(repeat):
        with container.pool.connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            with conn.transaction():
                runner._create_schema(conn, p, schema)
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            spent = client = 0.0
            server = -_server_cpu(backend)
            with conn.cursor(row_factory=dict_row) as cur:
                for i in range(0, len(events), batch):
                    with conn.transaction():
                        started, started_cpu = time.perf_counter(), time.thread_time()
                        p.apply(cur, schema, events[i : i + batch])
                        spent += time.perf_counter() - started
                        client += time.thread_time() - started_cpu
            server += _server_cpu(backend)
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        best = min(best, spent)
        cpu = min(cpu, client + max(server, 0.0))
    return {"view": name, "events": len(events), "seconds": best, "cpu_s": cpu}


def _server_cpu(pid: int) -> float:
    """CPU seconds the server's backend ``pid`` has used (0 when the server is not local);
    it includes the COMMITs, which the batches pay as a live pass does."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def queuer_reads(container, batch: int, repeat: int) -> dict[str, Any]:  # noqa: ANN001
    """The notification manager's messages for every event it follows, computed (not queued:
    the run has queued them already) event by event with its own reads, and per batch of
    ``batch`` events with the batch's reads prefetched (``handle_batch``'s path)."""
    queuer = container.processes.managers["notifications"]
    with container.pool.connection() as conn:
        rows = container.runner._fetch(conn, 0, container.store.head(), list(queuer.topics), 10**9)
    triggers = [Trigger(queuer.name, e) for e in container.store.mapper.to_recorded_many(rows)]
    per_event = per_batch = float("inf")
    messages = 0
    for _ in range(repeat):
        started = time.perf_counter()
        messages = sum(len(queuer.commands(t)) for t in triggers)
        per_event = min(per_event, time.perf_counter() - started)
        if not hasattr(queuer, "prefetched"):  # a revision without the batch's prefetch
            continue
        started = time.perf_counter()
        for i in range(0, len(triggers), batch):
            part = triggers[i : i + batch]
            reads = queuer.prefetched(part)
            assert sum(len(queuer.commands(t, reads)) for t in part) >= 0
        per_batch = min(per_batch, time.perf_counter() - started)
    return {"events": len(triggers), "messages": messages, "per_event_s": per_event,
            "per_batch_s": per_batch}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=300)
    p.add_argument("--batch", type=int, default=90, help="events per apply (a live pass)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--views", default=",".join(VIEWS))
    p.add_argument("--queuer-batch", type=int, default=15, help="events per manager batch")
    args = p.parse_args(argv)
    out = []
    with fresh_database(args.url, args.keep) as url, container_on(url, pool_size=3) as container:
        skus = _setup(container)
        place(container, skus, args.orders)
        print(machine(url))
        print(f"{args.orders} orders, batches of {args.batch} events, best of {args.repeat}")
        print("| view | events | apply s | events/s | CPU µs/event (client + server) |")
        print("|---|---|---|---|---|")
        for name in args.views.split(","):
            r = apply_view(container, name, args.batch, args.repeat)
            out.append(r)
            print(
                f"| {name} | {r['events']} | {r['seconds']:.3f} | "
                f"{r['events'] / r['seconds']:,.0f} | {r['cpu_s'] / r['events'] * 1e6:,.0f} |",
                flush=True,
            )
        q = queuer_reads(container, args.queuer_batch, args.repeat)
        batched = (
            f"{q['events'] / q['per_batch_s']:,.0f} events/s"
            if q["per_batch_s"] != float("inf")
            else "(not in this revision)"
        )
        print(
            f"notification manager, {q['events']} events ({q['messages']} messages): "
            f"event by event {q['events'] / q['per_event_s']:,.0f} events/s, "
            f"prefetched per batch of {args.queuer_batch} {batched}"
        )
    return out


if __name__ == "__main__":
    main()
