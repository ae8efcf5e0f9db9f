"""Inventory handlers against real PostgreSQL: what they check outside the aggregate (known
SKU, active location), the totals they answer with, idempotency, and expiry by the clock."""

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands import inventory, sku_lookup
from commands.context import CommandContext, Idempotency
from domain.errors import Conflict, InsufficientStock, InvalidCommand
from domain.ids import inventory_stream
from domain.inventory.commands import (
    CommitReservation,
    ConfirmReservation,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    TransferStock,
)
from domain.location.commands import DeactivateLocation, RegisterLocation
from tests.factories import send


def known_sku(store) -> str:
    sku = f"INV-{uuid4().hex[:10]}"
    store.append([sku_lookup.claim(sku, uuid4())], CommandContext.new("t").meta())
    return sku


def new_location(store) -> str:
    code = f"WH-{uuid4().hex[:8]}"
    send(
        store,
        RegisterLocation(code=code, name="W", type="warehouse", priority=1),
        CommandContext.new("t"),
    )
    return code


def ctx(**kw) -> CommandContext:
    return CommandContext.new("tester", **kw)


def reserve(sku: str, wh: str, quantity: int, expires_at=None) -> ReserveStock:  # noqa: ANN001
    """A new reservation for a new order line (no expiry unless given)."""
    return ReserveStock(
        sku=sku,
        reservation_id=uuid4(),
        order_id=uuid4(),
        line_id=uuid4(),
        location=wh,
        quantity=quantity,
        expires_at=expires_at,
    )


def test_a_receipt_answers_with_the_totals_after_it(store):
    sku, wh = known_sku(store), new_location(store)
    result = send(store, ReceiveStock(sku=sku, location=wh, quantity=7, reference="PO-7"), ctx())
    assert result.version == 1
    assert result.extra == {"sku": sku, "on_hand": 7, "reserved": 0, "available": 7}


def test_an_unknown_sku_is_invalid_and_writes_nothing(store):
    wh = new_location(store)
    head = store.head()
    with pytest.raises(InvalidCommand) as e:
        send(store, ReceiveStock(sku=f"NOPE-{uuid4().hex[:8]}", location=wh, quantity=1), ctx())
    assert e.value.code == "unknown_sku"
    assert store.head() == head


def test_an_unknown_location_is_invalid_not_missing(store):
    sku = known_sku(store)
    with pytest.raises(InvalidCommand) as e:
        send(store, ReceiveStock(sku=sku, location="NO-SUCH-WH", quantity=1), ctx())
    assert e.value.code == "unknown_location"


def test_an_inactive_location_is_a_conflict(store):
    sku, wh = known_sku(store), new_location(store)
    send(store, DeactivateLocation(code=wh, reason="closed"), ctx())
    with pytest.raises(Conflict) as e:
        send(store, ReceiveStock(sku=sku, location=wh, quantity=1), ctx())
    assert e.value.code == "location_inactive"


def test_a_transfer_checks_both_locations(store):
    sku, wh = known_sku(store), new_location(store)
    send(store, ReceiveStock(sku=sku, location=wh, quantity=3), ctx())
    with pytest.raises(InvalidCommand) as e:
        send(
            store,
            TransferStock(sku=sku, from_location=wh, to_location="NOWHERE", quantity=1),
            ctx(),
        )
    assert e.value.code == "unknown_location"


def test_the_same_idempotency_key_writes_once(store):
    sku, wh = known_sku(store), new_location(store)
    key = Idempotency(principal="tester", key=uuid4().hex, request_hash="h1")
    first = send(store, ReceiveStock(sku=sku, location=wh, quantity=2), ctx(idempotency=key))
    again = send(store, ReceiveStock(sku=sku, location=wh, quantity=2), ctx(idempotency=key))
    assert again.replayed and (again.version, again.position) == (first.version, first.position)
    assert again.extra == first.extra
    assert inventory.get(store, sku).level(wh).on_hand == 2


def test_reserve_confirm_commit_through_the_handlers(store):
    sku, wh = known_sku(store), new_location(store)
    send(store, ReceiveStock(sku=sku, location=wh, quantity=5), ctx())
    now = ctx().now
    reserved = send(store, reserve(sku, wh, 3, expires_at=now + timedelta(hours=2)), ctx())
    rid = reserved.extra["reservation_id"]
    assert reserved.extra["available"] == 2
    confirmed = send(store, ConfirmReservation(sku=sku, reservation_id=rid), ctx())
    assert confirmed.version == reserved.version + 1
    assert inventory.get(store, sku).reservations[UUID(rid)].expires_at is None
    commit = CommitReservation(sku=sku, reservation_id=rid, shipment_id=uuid4())
    committed = send(store, commit, ctx())
    assert committed.extra == {"sku": sku, "on_hand": 2, "reserved": 0, "available": 2}
    released = send(store, ReleaseReservation(sku=sku, reservation_id=rid), ctx())
    assert released.version == committed.version  # an inactive reservation: nothing written


def test_a_reservation_of_an_unknown_sku_or_location_is_invalid_and_writes_nothing(store):
    sku, wh = known_sku(store), new_location(store)
    send(store, ReceiveStock(sku=sku, location=wh, quantity=5), ctx())
    version = store.stream_version(inventory_stream(sku))
    for command, code in (
        (reserve(f"NOPE-{uuid4().hex[:8]}", wh, 1), "unknown_sku"),
        (reserve(sku, f"NOWH-{uuid4().hex[:8]}", 1), "unknown_location"),
    ):
        with pytest.raises(InvalidCommand) as e:
            send(store, command, ctx())
        assert e.value.code == code
    assert store.stream_version(inventory_stream(sku)) == version


def test_an_expired_reservation_is_recorded_by_the_next_command(store):
    sku, wh = known_sku(store), new_location(store)
    start = ctx()
    send(store, ReceiveStock(sku=sku, location=wh, quantity=2), start)
    send(store, reserve(sku, wh, 2, expires_at=start.now + timedelta(minutes=5)), start)
    with pytest.raises(InsufficientStock):
        send(store, reserve(sku, wh, 1), start)
    later = ctx(now=start.now + timedelta(minutes=6))
    result = send(store, reserve(sku, wh, 2), later)
    names = [e.name for e in store.load(result.stream_id)]
    assert (
        names[-3:-1] == ["ReservationExpired", "StockAlertResolved"]
        or "ReservationExpired" in names
    )
    state = inventory.get(store, sku)
    assert [r.status for r in state.reservations.values()].count("expired") == 1
    assert state.level(wh).reserved == 2
