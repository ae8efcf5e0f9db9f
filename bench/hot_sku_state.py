"""What one decision on a hot SKU costs the inventory state, in memory and time: a SKU whose
state holds ``--reservations`` reservations (folded from that many ``StockReserved``), then
``--applies`` single-event applies, each state kept as the unit of work's undo log keeps them
(``commands/unit_of_work.py``). Beside it, in the same run, the baseline the state replaced:
the same four maps as dicts, copied once per apply (``dict(...)``, what a frozen state of
plain dicts must do). No database.

    python -m bench.hot_sku_state --reservations 100000 --applies 300
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import uuid
from collections.abc import Sequence

from domain.inventory.events import StockReceived, StockReserved
from domain.inventory.state import INVENTORY, InventoryState


def reserved() -> StockReserved:
    return StockReserved(
        sku="HOT",
        reservation_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        line_id=uuid.uuid4(),
        location="WH",
        quantity=1,
        expires_at=None,
    )


def applies(state: InventoryState, n: int) -> tuple[float, float]:
    """ms per apply and MB the kept states hold, for ``n`` applies on ``state``."""
    events = [reserved() for _ in range(n)]
    kept = []
    tracemalloc.start()
    start = time.perf_counter()
    for e in events:
        kept.append(state)
        state = INVENTORY.fold([e], state)
    took = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return took * 1e3 / n, held / 2**20


def copies(state: InventoryState, n: int) -> tuple[float, float]:
    """The baseline: the four maps copied as dicts once per apply, every copy kept."""
    maps = [dict(m) for m in (state.reservations, state.by_order, state.expiring, state.commits)]
    kept = []
    tracemalloc.start()
    start = time.perf_counter()
    for _ in range(n):
        maps = [dict(m) for m in maps]
        kept.append(maps)
    took = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return took * 1e3 / n, held / 2**20


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reservations", type=int, default=100_000)
    p.add_argument("--applies", type=int, default=300)
    args = p.parse_args(argv)
    start = time.perf_counter()
    history = [StockReceived(sku="HOT", location="WH", quantity=10**9)]
    state = INVENTORY.fold([*history, *(reserved() for _ in range(args.reservations))])
    folded = time.perf_counter() - start
    ours_ms, ours_mb = applies(state, args.applies)
    base_ms, base_mb = copies(state, args.applies)
    print(
        f"one SKU, {args.reservations:,} reservations (folded in {folded:.2f} s), "
        f"{args.applies} applies, each state kept\n"
    )
    print("| figure | ours (persistent maps) | baseline (dicts copied per apply) | ratio |")
    print("|---|---|---|---|")
    print(f"| an apply, ms | {ours_ms:.3f} | {base_ms:.3f} | {base_ms / ours_ms:,.0f}× faster |")
    less = base_mb / max(ours_mb, 0.1)
    print(f"| the kept states, MB | {ours_mb:.1f} | {base_mb:,.0f} | {less:,.0f}× less |")
    return {
        "fold_s": folded,
        "ours_ms": ours_ms,
        "ours_mb": ours_mb,
        "base_ms": base_ms,
        "base_mb": base_mb,
    }


if __name__ == "__main__":
    main()
    sys.exit(0)
