"""Snapshot codec (pure, no database): a folded inventory state survives encoding exactly, so
folding the rest of a history onto a decoded snapshot gives the state of the whole history; the
fingerprint moves when the state's shape or meaning does; streams with personal data refuse
snapshots; when an append makes a snapshot due."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregate import AggregateType
from domain.errors import DomainError
from domain.inventory import reservations as rsv
from domain.inventory.commands import (
    AdjustStock,
    CommitReservation,
    ConfirmReservation,
    ExpireDueReservations,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    SetThresholds,
    TransferStock,
)
from domain.inventory.decide import adjust_stock, receive_stock, set_thresholds, transfer_stock
from domain.inventory.state import INVENTORY, InventoryState, Reservation
from domain.order.events import ORDER_EVENTS
from eventstore.snapshots import StateCodec, codec_of, due, interval

SKU = "SKU-S"
START = datetime(2026, 1, 1, tzinfo=UTC)
LOCATIONS = ("WH1", "WH2")


def rid(n: int) -> UUID:
    return UUID(int=1000 + n)


# ---- histories made by the domain's own decisions ------------------------------------------

locations = st.sampled_from(LOCATIONS)
quantities = st.integers(1, 20)
numbers = st.integers(1, 8)
steps = st.one_of(
    st.tuples(st.just("receive"), locations, quantities),
    st.tuples(st.just("adjust"), locations, st.integers(-10, 10).filter(bool)),
    st.tuples(st.just("transfer"), locations, locations, quantities),
    st.tuples(st.just("reserve"), numbers, locations, quantities, st.none() | st.integers(1, 90)),
    st.tuples(st.just("confirm"), numbers),
    st.tuples(st.just("release"), numbers),
    st.tuples(st.just("commit"), numbers, st.none() | quantities),
    st.tuples(st.just("thresholds"), locations, st.integers(0, 15), st.none() | quantities),
    st.tuples(st.just("wait"), st.integers(1, 120)),
    st.tuples(st.just("sweep")),
)


def decision(step: tuple, now: datetime):  # noqa: C901 - one case per command
    match step:
        case ("receive", loc, qty):
            return lambda s: receive_stock(
                s, ReceiveStock(sku=SKU, location=loc, quantity=qty), now
            )
        case ("adjust", loc, delta):
            return lambda s: adjust_stock(
                s, AdjustStock(sku=SKU, location=loc, delta=delta, reason="count_correction"), now
            )
        case ("transfer", origin, destination, qty):
            return lambda s: transfer_stock(
                s,
                TransferStock(sku=SKU, from_location=origin, to_location=destination, quantity=qty),
                now,
            )
        case ("reserve", n, loc, qty, ttl):
            return lambda s: rsv.reserve_stock(
                s,
                ReserveStock(
                    sku=SKU,
                    reservation_id=rid(n),
                    order_id=UUID(int=n),
                    line_id=UUID(int=50 + n),
                    location=loc,
                    quantity=qty,
                    expires_at=None if ttl is None else now + timedelta(minutes=ttl),
                ),
                now,
            )
        case ("confirm", n):
            return lambda s: rsv.confirm_reservation(
                s, ConfirmReservation(sku=SKU, reservation_id=rid(n)), now
            )
        case ("release", n):
            return lambda s: rsv.release_reservation(
                s, ReleaseReservation(sku=SKU, reservation_id=rid(n), reason="test"), now
            )
        case ("commit", n, qty):
            return lambda s: rsv.commit_reservation(
                s,
                CommitReservation(
                    sku=SKU, reservation_id=rid(n), shipment_id=UUID(int=7), quantity=qty
                ),
                now,
            )
        case ("thresholds", loc, point, reorder):
            return lambda s: set_thresholds(
                s,
                SetThresholds(sku=SKU, location=loc, reorder_point=point, reorder_quantity=reorder),
                now,
            )
        case ("sweep",):
            return lambda s: rsv.expire_due_reservations(s, ExpireDueReservations(sku=SKU), now)
    raise AssertionError(step)


def history(commands: list[tuple]) -> list:
    """The events the commands decide, one after another (refused commands add nothing)."""
    state, now, events = INVENTORY.initial(), START, []
    for step in commands:
        if step[0] == "wait":
            now += timedelta(minutes=step[1])
            continue
        try:
            new = decision(step, now)(state)
        except DomainError:
            continue
        events.extend(new)
        state = INVENTORY.fold(new, state)
    return events


# ---- round trip ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(commands=st.lists(steps, max_size=60), data=st.data())
def test_a_decoded_snapshot_folded_with_the_rest_is_the_whole_fold(commands, data):
    # given a history and a point in it
    events = history(commands)
    cut = data.draw(st.integers(0, len(events)), label="cut")
    codec = codec_of(INVENTORY)
    # when the state at that point is snapshot, decoded, and the rest folded onto it
    snapshot = codec.decode(codec.encode(INVENTORY.fold(events[:cut])))
    resumed = INVENTORY.fold(events[cut:], snapshot)
    # then it is the state of the whole history
    assert resumed == INVENTORY.fold(events)


def test_a_state_keeps_its_types_through_the_codec():
    events = history(
        [
            ("receive", "WH1", 20),
            ("thresholds", "WH1", 5, 10),
            ("reserve", 1, "WH1", 4, 30),
            ("reserve", 2, "WH1", 3, None),
            ("reserve", 3, "WH1", 2, 30),
            ("reserve", 4, "WH1", 9, None),  # 4 left: below the reorder point
            ("commit", 2, None),
            ("release", 3),
        ]
    )
    state = INVENTORY.fold(events)
    decoded = codec_of(INVENTORY).decode(codec_of(INVENTORY).encode(state))
    assert decoded == state
    assert isinstance(decoded, InventoryState) and isinstance(decoded.alerts, frozenset)
    assert decoded.alerts == state.alerts != frozenset()
    reservation = decoded.reservations[rid(1)]
    assert isinstance(reservation, Reservation) and isinstance(reservation.order_id, UUID)
    assert reservation.expires_at == START + timedelta(minutes=30)
    assert {r.status for r in decoded.reservations.values()} == {"active", "committed", "released"}


# ---- fingerprint -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WiderState:
    """An inventory-like state with one more field: another shape."""

    sku: str = ""
    levels: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class NarrowState:
    sku: str = ""
    levels: dict[str, int] = field(default_factory=dict)


def kind(state_type, **kw) -> AggregateType:
    return AggregateType("inventory", state_type, lambda s, e: s, (), snapshot_every=10, **kw)


def test_the_fingerprint_moves_with_the_shape_and_the_snapshot_version():
    narrow = StateCodec(kind(NarrowState)).fingerprint
    assert StateCodec(kind(NarrowState)).fingerprint == narrow
    assert StateCodec(kind(WiderState)).fingerprint != narrow
    assert StateCodec(kind(NarrowState, snapshot_version=2)).fingerprint != narrow


# ---- definition and policy -------------------------------------------------------------------


def test_an_aggregate_with_personal_data_in_its_events_refuses_snapshots():
    with pytest.raises(ValueError, match="personal data"):
        AggregateType("order", dict, lambda s, e: s, ORDER_EVENTS, snapshot_every=100)


def test_inventory_keeps_snapshots():
    assert INVENTORY.snapshot_every


@pytest.mark.parametrize(
    ("from_version", "new_version", "events_read", "expected"),
    [
        (198, 199, 198, False),  # below the first multiple
        (199, 200, 199, True),  # reaches it
        (399, 402, 3, True),  # a batch that jumps over one
        (401, 402, 1, False),  # just after one
        (1_000, 1_001, 1_000, True),  # a long stream with no usable snapshot heals
        (500, 500, 500, False),  # nothing appended
    ],
)
def test_a_snapshot_is_due_when_an_append_crosses_a_multiple(
    from_version, new_version, events_read, expected
):
    every_200 = AggregateType("inventory", NarrowState, lambda s, e: s, (), snapshot_every=200)
    assert due(every_200, from_version, new_version, events_read, NarrowState()) is expected


def _sized(reservations: int) -> InventoryState:
    """An inventory state holding ``reservations`` reservations (their content aside)."""
    made = {
        UUID(int=i): Reservation(UUID(int=i), UUID(int=i), UUID(int=i), "WH", 1, 1, None)
        for i in range(reservations)
    }
    return InventoryState(sku="S", reservations=made)


@pytest.mark.parametrize(
    ("reservations", "spacing"),
    [(0, 200), (200, 200), (201, 400), (1_000, 1_600), (150_000, 204_800)],
)
def test_a_larger_state_is_snapshotted_less_often_in_proportion_to_its_size(reservations, spacing):
    """Given a SKU holding this many reservations, then its snapshots are spaced by the
    least power-of-two multiple of 200 events that reaches that many: writing a snapshot
    (the whole state) costs each event a bounded share however large the state grows."""
    state = _sized(reservations)
    assert interval(INVENTORY, state) == spacing
    assert due(INVENTORY, spacing - 1, spacing, 1, state)
    assert not due(INVENTORY, spacing, spacing + spacing // 2, 1, state)
    assert due(INVENTORY, 1, 2, spacing, state)  # a load that read that many heals
    assert not due(INVENTORY, 1, 2, spacing - 1, state)
