"""``POST /api/v1/orders`` with three pricing rules and an automatic promotion active, against
none, over HTTP, on one server and one database (the real API under uvicorn, read models on,
process managers off; the order load and catalog of ``bench/http_orders.py``).

Rounds alternate ABBA (none, priced, priced, none, ...) so the noise of a shared machine and
the drift of a growing log fall on both sides alike. Before a "priced" round the three rules
(tiered on one of the order's SKUs, geographic on every SKU for the US, time-based within a
validity window on the other SKU) are created and the code-less 10 % promotion is activated;
after it they are deactivated and paused, which the write side's directories see before the
next order. ``--with rules`` or ``--with promotion`` measures one of the two alone.
Prints each round, then the medians and their ratio (goal: priced ≥ 0.90 × none).

    python -m bench.priced_orders --seconds 8 --rounds 4 --connections 16
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


class Pricing:
    """Turns the rules and the promotion on and off through the command path."""

    def __init__(self, url: str, rules: bool, promotion: bool):
        self.url, self.rules, self.promotion = url, rules, promotion
        self.rule_ids: list[Any] = []
        self.promotion_id: Any = None

    def on(self) -> None:
        from commands.context import CommandContext
        from domain.pricing.commands import CreatePricingRule
        from domain.promotion.commands import ActivatePromotion, CreatePromotion

        with container_on(self.url, pool_size=2) as c:
            send, ctx = c.dispatcher.handle, CommandContext.new("bench")
            if self.rules:
                self.rule_ids = [
                    send(CreatePricingRule(**body), ctx).stream_id for body in rules_bodies()
                ]
            if self.promotion:
                if self.promotion_id is None:
                    made = CreatePromotion(
                        name="Ten off", target="order", kind="percentage", value="10"
                    )
                    self.promotion_id = send(made, ctx).stream_id
                send(ActivatePromotion(promotion_id=self.promotion_id), ctx)

    def off(self) -> None:
        from commands.context import CommandContext
        from domain.pricing.commands import DeactivatePricingRule
        from domain.promotion.commands import PausePromotion

        with container_on(self.url, pool_size=2) as c:
            send, ctx = c.dispatcher.handle, CommandContext.new("bench")
            for rule_id in self.rule_ids:
                send(DeactivatePricingRule(rule_id=rule_id), ctx)
            if self.promotion_id is not None:
                send(PausePromotion(promotion_id=self.promotion_id), ctx)


def measure(
    url: str, seconds: float, rounds: int, connections: int, warmup: float, pricing: Pricing
) -> dict:
    setup_catalog(url)
    results: dict[str, list[dict]] = {"none": [], "priced": []}
    acked: list[str] = []
    port = free_port()
    with api_server(url, port, 1):
        for i in range(rounds):
            for kind in ("none", "priced") if i % 2 == 0 else ("priced", "none"):
                if kind == "priced":
                    pricing.on()
                raw = order_load(port, connections, seconds, warmup)
                if kind == "priced":
                    pricing.off()
                acked += raw["ids"]
                results[kind].append(summary(raw))
                print(f"round {i + 1}, {kind}: {results[kind][-1]}", flush=True)
        counts = check_nothing_lost(url, acked)
    medians = {k: statistics.median(r["rate"] for r in v) for k, v in results.items()}
    p99 = {k: statistics.median(r["p99"] for r in v) for k, v in results.items()}
    ratio = medians["priced"] / medians["none"] if medians["none"] else float("nan")
    return {
        "rounds": results,
        "median_rate": medians,
        "median_p99": p99,
        "ratio": ratio,
        "counts": counts,
    }


def table(r: dict, what: str) -> str:
    m, p = r["median_rate"], r["median_p99"]
    return "\n".join(
        [
            "| active | orders/s (median) | p99 ms (median) |",
            "|---|---|---|",
            f"| none | {m['none']:,.0f} | {p['none']:.1f} |",
            f"| {what} | {m['priced']:,.0f} | {p['priced']:.1f} |",
            f"\npriced/none {r['ratio']:.3f} (goal >= 0.90); nothing lost: {r['counts']}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> dict:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per round")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per round")
    p.add_argument("--rounds", type=int, default=4, help="pairs of rounds (none, priced)")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--with", dest="only", choices=("both", "rules", "promotion"), default="both")
    args = p.parse_args(argv)
    pricing = Pricing("", args.only in ("both", "rules"), args.only in ("both", "promotion"))
    what = {
        "both": "three rules and an automatic promotion",
        "rules": "three rules",
        "promotion": "an automatic promotion",
    }[args.only]
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        pricing.url = url
        r = measure(url, args.seconds, args.rounds, args.connections, args.warmup, pricing)
    print(table(r, what), flush=True)
    r["what"] = what
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
