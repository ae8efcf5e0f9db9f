"""Snapshots of long inventory streams against real PostgreSQL: the command path starts from the
latest snapshot and reads only the events after it, with the same answer as folding the whole
stream; a snapshot the code cannot read is ignored; deleting snapshots changes nothing but
speed; a snapshot that cannot be written never fails a command; time travel reads events."""

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import psycopg
import pytest

from commands import sku_lookup
from commands.context import CommandContext
from commands.executor import execute, load
from commands.time_travel import state_at
from commands.unit_of_work import StateCache, UnitOfWork
from domain.ids import inventory_stream
from domain.inventory import reservations as rsv
from domain.inventory.commands import (
    CommitReservation,
    ConfirmReservation,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
)
from domain.inventory.state import INVENTORY
from domain.location.commands import RegisterLocation
from eventstore import snapshots
from tests.factories import send

EVERY = INVENTORY.snapshot_every
assert EVERY is not None


def ctx() -> CommandContext:
    return CommandContext.new("tester")


def new_sku(store) -> tuple[str, str]:
    sku, code = f"SNAP-{uuid4().hex[:10]}", f"WH-{uuid4().hex[:8]}"
    store.append([sku_lookup.claim(sku, uuid4())], ctx().meta())
    send(store, RegisterLocation(code=code, name="W", type="warehouse", priority=1), ctx())
    return sku, code


def activity(state, sku: str, wh: str, count: int) -> list:
    """``count`` events decided by the domain: reservations that stay active, are released,
    or are confirmed and committed."""
    events: list = []
    now = ctx().now

    def then(new: list) -> None:
        nonlocal state
        state = INVENTORY.fold(new, state)
        events.extend(new)

    while len(events) < count:
        rid, n = uuid4(), len(state.reservations)
        then(
            rsv.reserve_stock(
                state,
                ReserveStock(
                    sku=sku,
                    reservation_id=rid,
                    order_id=uuid4(),
                    line_id=uuid4(),
                    location=wh,
                    quantity=2,
                    expires_at=now + timedelta(hours=1),
                ),
                now,
            )
        )
        room = count - len(events)
        if n % 3 == 0 and room >= 1:
            then(
                rsv.release_reservation(
                    state, ReleaseReservation(sku=sku, reservation_id=rid, reason="x"), now
                )
            )
        elif n % 3 == 1 and room >= 2:
            then(
                rsv.confirm_reservation(state, ConfirmReservation(sku=sku, reservation_id=rid), now)
            )
            then(
                rsv.commit_reservation(
                    state, CommitReservation(sku=sku, reservation_id=rid, shipment_id=uuid4()), now
                )
            )
    return events


def reserve_in(uow: UnitOfWork, sku: str, wh: str, quantity: int = 1) -> None:
    """Apply one reservation of ``quantity`` units, decided by the domain, in ``uow``."""
    stream = inventory_stream(sku)
    events = rsv.reserve_stock(
        uow.state(stream),
        ReserveStock(
            sku=sku,
            reservation_id=uuid4(),
            order_id=uuid4(),
            line_id=uuid4(),
            location=wh,
            quantity=quantity,
            expires_at=None,
        ),
        ctx().now,
    )
    uow.apply(stream, events, ctx().meta())


def long_stream(store, events: int, per_command: int = 25) -> tuple[str, str]:
    """A SKU whose stream has ``events`` events, written by commands through the executor."""
    sku, wh = new_sku(store)
    version = send(store, ReceiveStock(sku=sku, location=wh, quantity=1_000_000), ctx()).version
    while version < events:
        count = min(per_command, events - version)
        version = execute(
            store,
            INVENTORY,
            inventory_stream(sku),
            lambda state, _v, count=count: activity(state, sku, wh, count),
            ctx(),
        ).version
    assert version == events
    return sku, wh


def full_fold(store, sku: str):
    events = store.load(inventory_stream(sku))
    return INVENTORY.fold(e.to_domain() for e in events), events[-1].version


def snapshot_row(container, sku: str):
    with psycopg.connect(container.url) as conn:
        return conn.execute(
            f"SELECT version, codec FROM {snapshots.SNAPSHOT_TABLE} WHERE stream_id = %s",
            (inventory_stream(sku),),
        ).fetchone()


def execute_sql(container, sql: str, params=()) -> None:
    with psycopg.connect(container.url, autocommit=True) as conn:
        conn.execute(sql, params)


# ---- loading ---------------------------------------------------------------------------------


def test_a_long_stream_loads_from_its_snapshot_and_reads_only_the_tail(container, store):
    # given a stream past a multiple of snapshot_every, written by commands
    sku, _ = long_stream(store, EVERY + 20)
    state, version = full_fold(store, sku)
    # when the command path loads it
    loaded = load(store, INVENTORY, inventory_stream(sku))
    # then it started from the snapshot the commands left, read only the events after it,
    # and has the state of the whole stream folded from its start
    fingerprint = snapshots.codec_of(INVENTORY).fingerprint
    assert snapshot_row(container, sku) == (loaded.snapshot_version, fingerprint)
    assert version - EVERY < loaded.snapshot_version <= version
    assert loaded.events_read == version - loaded.snapshot_version < version
    assert (loaded.state, loaded.version) == (state, version)


def test_the_unit_of_work_starts_a_stream_missing_from_its_cache_at_the_snapshot(store):
    # given a long stream with a snapshot, and an empty cache
    sku, _ = long_stream(store, EVERY + 20)
    state, version = full_fold(store, sku)
    snapshot_version = load(store, INVENTORY, inventory_stream(sku)).snapshot_version
    assert snapshot_version > 0
    # when a unit of work loads it through the cache
    uow = UnitOfWork(store, StateCache())
    uow.load(INVENTORY, [inventory_stream(sku)], cached=True)
    # then it read only the events after the snapshot and holds the whole stream's state
    assert uow.events_read(inventory_stream(sku)) == version - snapshot_version
    assert uow.state(inventory_stream(sku)) == state


def test_a_unit_of_work_commit_that_crosses_a_multiple_leaves_a_snapshot(container, store):
    # given a stream a few events short of a multiple of snapshot_every
    sku, wh = long_stream(store, EVERY - 5)
    _, version = full_fold(store, sku)
    assert snapshot_row(container, sku) is None
    # when a unit of work commits reservations that take it past the multiple
    uow = UnitOfWork(store)
    stream = inventory_stream(sku)
    uow.load(INVENTORY, [stream])
    for _ in range(EVERY - version + 1):
        reserve_in(uow, sku, wh)
    uow.commit(ctx().meta())
    # then the snapshot is the state it committed, at the version it reached
    state, version = full_fold(store, sku)
    assert snapshot_row(container, sku)[0] == version
    assert snapshots.latest(store, INVENTORY, [stream])[stream].state == state


def test_a_snapshot_of_another_codec_is_ignored(container, store):
    # given a long stream whose snapshot was written by code with another state shape
    sku, _ = long_stream(store, EVERY + 20)
    state, version = full_fold(store, sku)
    execute_sql(
        container,
        f"UPDATE {snapshots.SNAPSHOT_TABLE} SET codec = 'an older shape' WHERE stream_id = %s",
        (inventory_stream(sku),),
    )
    # when it is loaded, then the whole stream is folded, with the same state
    loaded = load(store, INVENTORY, inventory_stream(sku))
    assert (loaded.snapshot_version, loaded.events_read) == (0, version)
    assert (loaded.state, loaded.version) == (state, version)


def test_an_unreadable_snapshot_is_ignored(container, store):
    sku, _ = long_stream(store, EVERY + 20)
    state, version = full_fold(store, sku)
    execute_sql(
        container,
        f"UPDATE {snapshots.SNAPSHOT_TABLE} SET state = 'not json'::bytea WHERE stream_id = %s",
        (inventory_stream(sku),),
    )
    loaded = load(store, INVENTORY, inventory_stream(sku))
    assert (loaded.snapshot_version, loaded.state, loaded.version) == (0, state, version)


def test_deleting_snapshots_changes_no_answer_and_the_next_command_writes_one(container, store):
    # given a long stream loaded from its snapshot
    sku, wh = long_stream(store, EVERY + 20)
    with_snapshot = load(store, INVENTORY, inventory_stream(sku))
    assert with_snapshot.snapshot_version > 0
    # when every snapshot is deleted
    snapshots.forget(store)
    # then the load has the same answer, folded from the start
    without = load(store, INVENTORY, inventory_stream(sku))
    assert (without.state, without.version) == (with_snapshot.state, with_snapshot.version)
    assert without.snapshot_version == 0
    # and the next command (which read the whole stream) leaves a snapshot at its version
    result = send(store, ReceiveStock(sku=sku, location=wh, quantity=1), ctx())
    assert snapshot_row(container, sku)[0] == result.version
    assert load(store, INVENTORY, inventory_stream(sku)).events_read == 0


def test_a_snapshot_that_cannot_be_written_never_fails_the_command(container, store):
    # given a stream one event short of a multiple, and a table that refuses every row
    sku, wh = long_stream(store, EVERY - 3)
    _, version = full_fold(store, sku)
    execute_sql(
        container,
        f"ALTER TABLE {snapshots.SNAPSHOT_TABLE} ADD CONSTRAINT refuse_all CHECK (version < 0) "
        "NOT VALID",
    )
    try:
        # when commands take the stream past the multiple
        results = [
            send(store, ReceiveStock(sku=sku, location=wh, quantity=1), ctx())
            for _ in range(EVERY - version + 1)
        ]
    finally:
        execute_sql(container, f"ALTER TABLE {snapshots.SNAPSHOT_TABLE} DROP CONSTRAINT refuse_all")
    # then they all succeeded, no snapshot was kept, and the stream is whole
    assert results[-1].version == EVERY + 1
    assert snapshot_row(container, sku) is None
    assert load(store, INVENTORY, inventory_stream(sku)).version == EVERY + 1


@pytest.mark.parametrize("at_head", [True, False])
def test_time_travel_reads_events_never_snapshots(container, store, at_head):
    # given a long stream whose snapshot says something the events do not
    sku, _ = long_stream(store, EVERY + 20)
    state, version = full_fold(store, sku)
    stream = inventory_stream(sku)
    wrong = replace(snapshots.latest(store, INVENTORY, [stream])[stream].state, sku="tampered")
    execute_sql(
        container,
        f"UPDATE {snapshots.SNAPSHOT_TABLE} SET state = %s WHERE stream_id = %s",
        (snapshots.codec_of(INVENTORY).encode(wrong), stream),
    )
    # when the state is asked for at a version
    at = version if at_head else EVERY + 5
    then_state, then_version = state_at(store, INVENTORY, stream, kind="inventory", version=at)
    # then it is folded from the events (the command path, a cache, does use the snapshot)
    events = store.load(stream, up_to_version=at)
    assert (then_state, then_version) == (INVENTORY.fold(e.to_domain() for e in events), at)
    assert then_state.sku == sku
    assert load(store, INVENTORY, stream).state == replace(state, sku="tampered")


# ---- the stream's last time, for stamping --------------------------------------------------


def test_a_stream_loaded_from_its_snapshot_alone_is_stamped_no_earlier_than_its_last_event(
    store,
):
    # given a long stream whose snapshot is at its last event (nothing after it to read)
    sku, wh = long_stream(store, EVERY)
    stream = inventory_stream(sku)
    last = store.load(stream)[-1]
    loaded = load(store, INVENTORY, stream)
    assert (loaded.snapshot_version, loaded.events_read) == (EVERY, 0)
    # then the load knows when that event occurred
    assert loaded.last_at == last.meta.occurred_at
    # and a unit of work that starts from the snapshot, deciding with a clock a day behind,
    # stamps its events with the stream's last time
    behind = CommandContext.new("tester", now=last.meta.occurred_at - timedelta(days=1))
    cache = StateCache()
    uow = UnitOfWork(store, cache)
    uow.load(INVENTORY, [stream], cached=True)
    assert (uow.events_read(stream), uow.last_at(stream)) == (0, last.meta.occurred_at)
    decided = rsv.reserve_stock(
        uow.state(stream),
        ReserveStock(
            sku=sku,
            reservation_id=uuid4(),
            order_id=uuid4(),
            line_id=uuid4(),
            location=wh,
            quantity=1,
            expires_at=None,
        ),
        behind.now,
    )
    uow.apply(stream, decided, behind.meta())
    uow.commit(behind.meta())
    reserved = store.load(stream)[-1]
    assert (reserved.version, reserved.meta.occurred_at) == (EVERY + 1, last.meta.occurred_at)
    # so does one that starts from the cache (no snapshot, no event read)
    again = UnitOfWork(store, cache)
    again.load(INVENTORY, [stream], cached=True)
    assert (again.events_read(stream), again.last_at(stream)) == (0, last.meta.occurred_at)
    # and a command through the executor
    result = send(store, ReceiveStock(sku=sku, location=wh, quantity=1), behind)
    received = store.load(stream)[-1]
    assert (received.version, received.meta.occurred_at) == (result.version, last.meta.occurred_at)
