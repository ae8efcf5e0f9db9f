"""``POST /api/v1/orders`` with an automatic promotion active against none, on the same server
and database (the real API under uvicorn, read models on, process managers off, as in
``bench/http_orders.py``, whose load and catalog it uses). Rounds alternate without and with
the promotion (a 10 % code-less promotion on every order, so each placement computes its
discounts), so drift in a shared machine hits both alike; prints each round and the ratio of
the mean rates (goal: with ≥ 0.90 × without).

    python -m bench.promotion_orders --seconds 10 --rounds 2 --connections 16
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from bench.common import (
    api_server,
    container_on,
    free_port,
    fresh_database,
    load_summary,
    machine,
    parser,
)
from bench.http_orders import order_load, setup_catalog


def _promotion(url: str, active: bool, promotion_id: Any = None) -> Any:
    """Create and activate the automatic promotion (first call), or pause/activate it."""
    from commands.context import CommandContext
    from domain.promotion.commands import ActivatePromotion, CreatePromotion, PausePromotion

    with container_on(url) as c:
        ctx, send = CommandContext.new("bench"), c.dispatcher.handle
        if promotion_id is None:
            made = CreatePromotion(name="Ten off", target="order", kind="percentage", value="10")
            promotion_id = send(made, ctx).stream_id
        command = ActivatePromotion if active else PausePromotion
        send(command(promotion_id=promotion_id), ctx)
    return promotion_id


def measure(url: str, seconds: float, rounds: int, connections: int, warmup: float) -> dict:
    setup_catalog(url)
    promotion_id = None
    rates: dict[str, list[float]] = {"without": [], "with": []}
    port = free_port()
    with api_server(url, port, 1):
        for n in range(rounds):
            for label, active in (("without", False), ("with", True)):
                if promotion_id is not None or active:
                    promotion_id = _promotion(url, active, promotion_id)
                s = load_summary(order_load(port, connections, seconds, warmup))
                rates[label].append(s["rate"])
                print(f"round {n + 1} {label} promotion: {s}", flush=True)
    mean = {k: sum(v) / len(v) for k, v in rates.items()}
    ratio = mean["with"] / mean["without"] if mean["without"] else float("nan")
    print(
        f"POST /orders: {mean['without']:,.0f}/s without, {mean['with']:,.0f}/s with an "
        f"automatic promotion; with/without {ratio:.2f} (goal >= 0.90)",
        flush=True,
    )
    return {"rates": rates, "ratio": ratio}


def main(argv: Sequence[str] | None = None) -> dict:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        return measure(url, args.seconds, args.rounds, args.connections, args.warmup)


if __name__ == "__main__":
    main()
    sys.exit(0)
