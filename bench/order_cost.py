"""CPU per order, by process, at steady offered rates: ours (``ecom serve`` as ``make run``
starts it, rate limits off) beside the baseline app (``bench/baseline_app.py``) at the same
rates, each on a fresh database of the same server, with the same paced loader
(``bench/paced_orders.py``).

For ours the CPU is counted from the first order until every order is confirmed and every view
is at the head (the work an order causes, not only its request), split into the API worker,
the supervising process (the views, the chainer), its child running the process managers and
PostgreSQL (every process of the server: run it on a quiet server). Beside it: placed →
confirmed from the events' own times, and how many batches the placement saga decided them
in.

What this shows that the saturating figures of ``bench/ratios.py`` cannot: below saturation the
followers' passes get smaller, so what a pass costs whatever it carries is paid more often per
order.

    .venv/bin/python -m bench.order_cost [--url URL] [--rates 40,80,120] [--seconds 20]
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.baseline_app import DATABASE_URL_ENV
from bench.common import (
    bench_token,
    free_port,
    fresh_database,
    machine,
    parser,
    percentile,
    served,
)
from bench.paced_orders import place_paced
from bench.process_cpu import (
    TICKS_PER_S,
    descendants_and_self,
    postgres_server_pid,
    serve_roles,
    ticks,
)
from bench.ratios import (
    SKU,
    Api,
    Broken,
    connect,
    head,
    our_server,
    placed_to_confirmed_ms,
    set_up_shop,
    wait_settled,
)

Groups = dict[str, Callable[[], set[int]]]


def _seconds_of(groups: Groups, work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """What ``work`` returns, and the CPU seconds each group used while it ran."""
    start = {name: ticks(members()) for name, members in groups.items()}
    out = work()
    used = {
        name: (ticks(members()) - start[name]) / TICKS_PER_S for name, members in groups.items()
    }
    return out, used


def _saga_batches(url: str, after: int) -> int:
    """How many reserve phases took the orders (each phase stamps its events with one time)."""
    with connect(url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT event_occurred_at(state)) FROM stored_events "
            "WHERE notification_id > %s AND topic = 'inventory.StockReserved'",
            (after,),
        ).fetchone()
    return row[0]


def measure_ours(url: str, server_url: str, rates: Sequence[float], seconds: float) -> list[dict]:
    port, token = free_port(), bench_token()
    api = Api(port, token)
    postmaster = postgres_server_pid(server_url)
    out = []
    with tempfile.TemporaryDirectory(prefix="ecom-cost-") as data_dir:
        with our_server(url, port, 1, data_dir) as server:
            groups: Groups = {
                "api": lambda: serve_roles(server.pid)["api"],
                "background": lambda: {server.pid},
                "managers": lambda: serve_roles(server.pid)["managers"],
            }
            if postmaster is not None:
                groups["postgres"] = lambda: descendants_and_self(postmaster)
            set_up_shop(api)
            with connect(url) as conn:
                start = head(conn)
            wait_settled(url, api, start)
            place_paced(port, token, SKU, rates[0], 2.0)  # warm-up: pools, caches, plans
            wait_settled(url, api, start)
            for rate in rates:
                with connect(url) as conn:
                    before = head(conn)

                def load(rate: float = rate, before: int = before) -> tuple[dict, Any]:
                    paced = place_paced(port, token, SKU, rate, seconds)
                    return paced, wait_settled(url, api, before)

                (paced, settled), used = _seconds_of(groups, load)
                placed = len(paced["ids"])
                if settled.seconds is None or settled.confirmed < placed:
                    raise Broken(f"ours at {rate}/s: {settled}")
                latencies = placed_to_confirmed_ms(url, paced["ids"])
                row = {
                    "rate": rate,
                    "orders": placed,
                    "ms": {k: 1000 * v / placed for k, v in used.items()},
                    "p50": percentile(latencies, 0.5),
                    "p99": percentile(latencies, 0.99),
                    "batches": _saga_batches(url, before),
                }
                print(f"ours at {rate:.0f}/s: {row}", flush=True)
                out.append(row)
    return out


def measure_baseline(url: str, server_url: str, rates: Sequence[float], seconds: float) -> list:
    port = free_port()
    postmaster = postgres_server_pid(server_url)
    command = ["-m", "uvicorn", "bench.baseline_app:create_app", "--factory"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
    out = []
    with served(command, {DATABASE_URL_ENV: url}, port) as server:
        groups: Groups = {"app": lambda: descendants_and_self(server.pid)}
        if postmaster is not None:
            groups["postgres"] = lambda: descendants_and_self(postmaster)
        place_paced(port, "", SKU, rates[0], 2.0, prefix="")
        for rate in rates:
            paced, used = _seconds_of(
                groups, lambda rate=rate: place_paced(port, "", SKU, rate, seconds, prefix="")
            )
            placed = len(paced["ids"])
            row = {
                "rate": rate,
                "orders": placed,
                "ms": {k: 1000 * v / placed for k, v in used.items()},
            }
            print(f"baseline at {rate:.0f}/s: {row}", flush=True)
            out.append(row)
    return out


def table(ours: list[dict], base: list[dict]) -> str:
    lines = [
        "| offered /s | ours: API | views | managers | PostgreSQL | **total** | baseline: app | "
        "PostgreSQL | **total** | ours ÷ baseline | placed → confirmed p50 / p99 ms | "
        "saga batches (orders each) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o, b in zip(ours, base, strict=True):
        total_o, total_b = sum(o["ms"].values()), sum(b["ms"].values())
        lines.append(
            f"| {o['rate']:.0f} | {o['ms']['api']:.2f} | {o['ms']['background']:.2f} | "
            f"{o['ms']['managers']:.2f} | "
            f"{o['ms'].get('postgres', float('nan')):.2f} | **{total_o:.2f}** | "
            f"{b['ms']['app']:.2f} | {b['ms'].get('postgres', float('nan')):.2f} | "
            f"**{total_b:.2f}** | {total_o / total_b:.1f} | {o['p50']:.0f} / {o['p99']:.0f} | "
            f"{o['batches']:,} ({o['orders'] / max(1, o['batches']):.1f}) |"
        )
    return "\n".join(lines)


def run(argv: Sequence[str] | None = None) -> tuple[list[dict], list[dict]]:
    p = parser(__doc__)
    p.add_argument("--rates", default="40,80,120", help="offered orders per second, in turn")
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of load per rate")
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    print(f"machine: {machine(args.url)}", flush=True)
    with fresh_database(args.url, args.keep) as base_url:
        base = measure_baseline(base_url, args.url, rates, args.seconds)
    time.sleep(2)
    with fresh_database(args.url, args.keep) as our_url:
        ours = measure_ours(our_url, args.url, rates, args.seconds)
    print()
    print("CPU ms per order (ours: until every order is confirmed and every view at the head)")
    print(table(ours, base))
    return ours, base


def main(argv: Sequence[str] | None = None) -> int:
    try:
        run(argv)
    except Broken as exc:
        print(f"BROKEN: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
