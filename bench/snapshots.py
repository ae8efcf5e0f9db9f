"""Benchmark: one inventory command on a hot SKU, whose stream holds N reservations, with and
without snapshots, in the same run.

Two SKUs get the same history (written in bulk: N reservations, a third released, a third
confirmed and committed, a third active). Then, in alternation, each takes a reserve and a
release through the executor: the baseline SKU with snapshots off (every load folds the whole
stream), the other with inventory's snapshots (its first command leaves one; every load reads
it and the events after it). Also: the load alone, and the snapshot's size and cost.

    .venv/bin/python -m bench.snapshots [--reservations 10000] [--rounds 30]
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from bench.common import container_on, fresh_database, machine, parser
from commands import sku_lookup
from commands.context import CommandContext
from commands.executor import execute, load
from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ids import inventory_stream, location_stream
from domain.inventory import reservations as rsv
from domain.inventory.commands import ReleaseReservation, ReserveStock
from domain.inventory.events import (
    ReservationConfirmed,
    ReservationReleased,
    StockCommitted,
    StockReceived,
    StockReserved,
)
from domain.inventory.state import INVENTORY
from domain.location.commands import RegisterLocation
from domain.location.decide import register_location
from domain.location.state import LOCATION
from eventstore import snapshots
from eventstore.store import EventStore, StreamAppend

WITHOUT = dataclasses.replace(INVENTORY, snapshot_every=None)
CHUNK = 1_000


def history(sku: str, wh: str, reservations: int) -> list[DomainEvent]:
    now = CommandContext.new().now
    events: list[DomainEvent] = [StockReceived(sku=sku, location=wh, quantity=10**9)]
    for i in range(reservations):
        rid = uuid.uuid4()
        events.append(
            StockReserved(
                sku=sku,
                reservation_id=rid,
                order_id=uuid.uuid4(),
                line_id=uuid.uuid4(),
                location=wh,
                quantity=2,
                expires_at=now + timedelta(days=30),
            )
        )
        if i % 3 == 0:
            events.append(
                ReservationReleased(
                    sku=sku, reservation_id=rid, location=wh, quantity=2, reason="bench"
                )
            )
        elif i % 3 == 1:
            events.append(ReservationConfirmed(sku=sku, reservation_id=rid, location=wh))
            events.append(
                StockCommitted(
                    sku=sku, reservation_id=rid, shipment_id=uuid.uuid4(), location=wh, quantity=2
                )
            )
    return events


def hot_sku(store: EventStore, reservations: int) -> tuple[str, str, int]:
    """A SKU known to the catalog, a location, and the SKU's bulk-written history."""
    ctx = CommandContext.new("bench")
    sku, wh = f"HOT-{uuid.uuid4().hex[:8]}", f"WH-{uuid.uuid4().hex[:6]}"
    store.append([sku_lookup.claim(sku, uuid.uuid4())], ctx.meta())
    register = RegisterLocation(code=wh, name="W", type="warehouse", priority=1)
    execute(store, LOCATION, location_stream(wh), lambda s, _v: register_location(s, register), ctx)
    events, version = history(sku, wh, reservations), 0
    for at in range(0, len(events), CHUNK):
        chunk = events[at : at + CHUNK]
        store.append([StreamAppend(inventory_stream(sku), version, chunk)], ctx.meta())
        version += len(chunk)
    return sku, wh, version


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def settled(fn: Callable[[], object], times: int = 5) -> float:
    """Median milliseconds of ``fn``, each run after a full garbage collection (the figures
    of the codec alone, without a collection of the benchmark's own heap inside them)."""
    runs = []
    for _ in range(times):
        gc.collect()
        runs.append(timed(fn))
    return statistics.median(runs)


def reserve_and_release(
    store: EventStore, aggregate: AggregateType, sku: str, wh: str
) -> tuple[float, float]:
    """Milliseconds of one reserve and one release, each a command through the executor."""
    stream, rid, ctx = inventory_stream(sku), uuid.uuid4(), CommandContext.new("bench")

    def reserve(state, _version):  # noqa: ANN001, ANN202
        return rsv.reserve_stock(
            state,
            ReserveStock(
                sku=sku,
                reservation_id=rid,
                order_id=uuid.uuid4(),
                line_id=uuid.uuid4(),
                location=wh,
                quantity=1,
                expires_at=ctx.now + timedelta(hours=2),
            ),
            ctx.now,
        )

    def release(state, _version):  # noqa: ANN001, ANN202
        return rsv.release_reservation(
            state, ReleaseReservation(sku=sku, reservation_id=rid, reason="x"), ctx.now
        )

    return (
        timed(lambda: execute(store, aggregate, stream, reserve, ctx)),
        timed(lambda: execute(store, aggregate, stream, release, ctx)),
    )


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{statistics.median(ordered):.1f} ms (p90 {p90:.1f})"


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the table; return the medians (ms) ``bench.all`` puts in its summary."""
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--reservations", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=30)
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url, container_on(url) as c:
        store = c.store
        base_sku, base_wh, events = hot_sku(store, args.reservations)
        snap_sku, snap_wh, _ = hot_sku(store, args.reservations)
        runs: dict[str, dict[str, list[float]]] = {
            name: {"reserve": [], "release": [], "load": []} for name in ("base", "snap")
        }
        cases = (("base", WITHOUT, base_sku, base_wh), ("snap", INVENTORY, snap_sku, snap_wh))
        for n in range(args.rounds + 2):  # the first two rounds warm up (and leave a snapshot)
            for name, aggregate, sku, wh in cases:
                reserve_ms, release_ms = reserve_and_release(store, aggregate, sku, wh)
                load_ms = timed(lambda: load(store, aggregate, inventory_stream(sku)))  # noqa: B023
                if n >= 2:
                    runs[name]["reserve"].append(reserve_ms)
                    runs[name]["release"].append(release_ms)
                    runs[name]["load"].append(load_ms)
        base_loaded = load(store, WITHOUT, inventory_stream(base_sku))
        snap_loaded = load(store, INVENTORY, inventory_stream(snap_sku))
        folded = INVENTORY.fold(e.to_domain() for e in store.load(inventory_stream(snap_sku)))
        assert snap_loaded.state == folded, "the snapshot's load differs from the whole fold"
        codec = snapshots.codec_of(INVENTORY)
        state = snap_loaded.state
        blob = codec.encode(state)
        encode_ms = settled(lambda: codec.encode(state))
        decode_ms = settled(lambda: codec.decode(blob))
        # Into rows of throwaway stream ids, so that each run writes its row.
        save_ms = settled(lambda: snapshots.save(store, INVENTORY, {uuid.uuid4(): (1, state)}))

        print(f"### Inventory command on a SKU with {args.reservations:,} reservations\n")
        print(f"Machine: {machine(url)}\n")
        print(
            f"Stream: {events:,} events at the start, {len(state.reservations):,} reservations "
            f"in the state at the end; snapshot every {INVENTORY.snapshot_every} events. "
            f"{args.rounds} rounds, the two SKUs in alternation; median (p90).\n"
        )
        print("| | whole stream folded (baseline) | from the snapshot | ratio |")
        print("|---|---:|---:|---:|")
        for step in ("reserve", "release", "load"):
            base, snap = runs["base"][step], runs["snap"][step]
            label = "load alone" if step == "load" else f"`{step}` through the executor"
            ratio = statistics.median(base) / statistics.median(snap)
            print(f"| {label} | {summary(base)} | {summary(snap)} | {ratio:.1f}x |")
        print(
            f"| events read by the last load | {base_loaded.events_read:,} | "
            f"{snap_loaded.events_read:,} (snapshot at {snap_loaded.snapshot_version:,}) | |"
        )
        print(
            f"\nSnapshot: {len(blob) / 1e6:.1f} MB of JSON; encode {encode_ms:.1f} ms, decode "
            f"{decode_ms:.1f} ms, `save` (encode + upsert) {save_ms:.1f} ms, paid once per "
            f"{INVENTORY.snapshot_every} events after the commit (each after a full collection)."
        )
    return {
        "reservations": args.reservations,
        "base_reserve_ms": statistics.median(runs["base"]["reserve"]),
        "snap_reserve_ms": statistics.median(runs["snap"]["reserve"]),
    }


if __name__ == "__main__":
    main()
