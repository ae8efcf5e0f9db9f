"""``POST /api/v1/orders`` with three pricing rules active against none, over HTTP, on one
server and one database, in alternating rounds (none, three, three, none, ...) so the noise
of a shared machine and the drift of a growing log fall on both alike: the order load and
catalog of ``bench/http_orders.py``; the rules (tiered on one of the order's SKUs,
geographic on every SKU for the US, time-based within a validity window on the other SKU) are
created before each "three" round and deactivated after it, which the write side's rule
directory sees before the next order.
Prints each round, then the medians and their ratio (goal: within 10 %).

    python -m bench.http_orders_pricing --seconds 8 --rounds 4 --connections 16
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import api_server, container_on, free_port, fresh_database, machine, parser
from bench.common import load_summary as summary
from bench.http_orders import check_nothing_lost, order_load, setup_catalog

USD = {"amount": "9.00", "currency": "USD"}


def rules_bodies() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    tiers = [{"min": 1, "max": 1, "price": USD}, {"min": 2, "max": None, "percent_off": 15}]
    return [
        {"name": "bulk", "type": "tiered", "scope": {"skus": ["HTTP-000"]},
         "config": {"tiers": tiers}, "priority": 10},
        {"name": "us", "type": "geographic", "scope": {}, "priority": 5,
         "config": {"regions": {"US": {"percent_adjust": 3}, "US-CA": {"percent_adjust": -2}}}},
        {"name": "sale", "type": "time_based", "scope": {"skus": ["HTTP-007"]}, "priority": 20,
         "config": {"percent_off": 5}, "valid_from": (now - timedelta(days=1)).isoformat(),
         "valid_to": (now + timedelta(days=1)).isoformat()},
    ]  # fmt: skip


def create_rules(url: str) -> list[Any]:
    from commands.context import CommandContext
    from domain.pricing.commands import CreatePricingRule

    with container_on(url, pool_size=2) as c:
        ctx = CommandContext.new("bench")
        return [
            c.dispatcher.handle(CreatePricingRule(**body), ctx).stream_id for body in rules_bodies()
        ]


def deactivate_rules(url: str, rule_ids: list[Any]) -> None:
    from commands.context import CommandContext
    from domain.pricing.commands import DeactivatePricingRule

    with container_on(url, pool_size=2) as c:
        for rule_id in rule_ids:
            c.dispatcher.handle(DeactivatePricingRule(rule_id=rule_id), CommandContext.new("bench"))


def measure(url: str, seconds: float, rounds: int, connections: int, warmup: float) -> dict:
    setup_catalog(url)
    results: dict[str, list[dict]] = {"none": [], "three": []}
    acked: list[str] = []
    port = free_port()
    with api_server(url, port, 1):
        for i in range(rounds):
            # ABBA: whatever drifts over the run (a growing log, the neighbours' load) falls
            # on both sides alike.
            for kind in ("none", "three") if i % 2 == 0 else ("three", "none"):
                rule_ids = create_rules(url) if kind == "three" else []
                raw = order_load(port, connections, seconds, warmup)
                if rule_ids:
                    deactivate_rules(url, rule_ids)
                acked += raw["ids"]
                results[kind].append(summary(raw))
                print(f"round {i + 1}, {kind} rules: {results[kind][-1]}", flush=True)
        counts = check_nothing_lost(url, acked)
    medians = {k: statistics.median(r["rate"] for r in v) for k, v in results.items()}
    p99 = {k: statistics.median(r["p99"] for r in v) for k, v in results.items()}
    return {"rounds": results, "median_rate": medians, "median_p99": p99, "counts": counts}


def table(r: dict) -> str:
    m, p = r["median_rate"], r["median_p99"]
    ratio = m["three"] / m["none"] if m["none"] else float("nan")
    return "\n".join(
        [
            "| pricing rules active | orders/s (median) | p99 ms (median) |",
            "|---|---|---|",
            f"| none | {m['none']:,.0f} | {p['none']:.1f} |",
            f"| three | {m['three']:,.0f} | {p['three']:.1f} |",
            f"\nthree/none {ratio:.3f} (goal >= 0.90); nothing lost: {r['counts']}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> dict:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per round")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per round")
    p.add_argument("--rounds", type=int, default=4, help="pairs of rounds (none, three)")
    p.add_argument("--connections", type=int, default=16)
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        r = measure(url, args.seconds, args.rounds, args.connections, args.warmup)
    print(table(r), flush=True)
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
