"""Inventory reservation decisions: given events, when reserve/confirm/release/expire/commit,
then these events or this error. The clock is an input, so expiry is tested with plain values."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.errors import Conflict, InsufficientStock, InvalidCommand, NotFound
from domain.inventory.commands import (
    CommitReservation,
    ConfirmReservation,
    ExpireDueReservations,
    ExpireReservation,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
)
from domain.inventory.decide import receive_stock
from domain.inventory.events import (
    ReservationConfirmed,
    ReservationExpired,
    ReservationReleased,
    StockAlertRaised,
    StockCommitted,
    StockReceived,
    StockReserved,
)
from domain.inventory.reservations import (
    commit_reservation,
    confirm_reservation,
    expire_due_reservations,
    expire_reservation,
    release_reservation,
    reserve_stock,
)
from domain.inventory.state import INVENTORY

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
SKU = "SKU-1"
RID = UUID("00000000-0000-0000-0000-0000000000a1")
OTHER = UUID("00000000-0000-0000-0000-0000000000a2")
ORDER = UUID("00000000-0000-0000-0000-0000000000b1")
LINE = UUID("00000000-0000-0000-0000-0000000000c1")
SHIPMENT = UUID("00000000-0000-0000-0000-0000000000d1")

RECEIVED = StockReceived(sku=SKU, location="WH1", quantity=10)


def given(*events):
    return INVENTORY.fold(events)


def reserved(quantity=3, rid=RID, expires_at=LATER):
    return StockReserved(
        sku=SKU,
        reservation_id=rid,
        order_id=ORDER,
        line_id=LINE,
        location="WH1",
        quantity=quantity,
        expires_at=expires_at,
    )


def reserve(state, quantity=3, rid=RID, now=NOW, expires_at=LATER):
    return reserve_stock(
        state,
        ReserveStock(
            sku=SKU,
            reservation_id=rid,
            order_id=ORDER,
            line_id=LINE,
            location="WH1",
            quantity=quantity,
            expires_at=expires_at,
        ),
        now,
    )


def expired(quantity=3, rid=RID):
    return ReservationExpired(
        sku=SKU, reservation_id=rid, location="WH1", quantity=quantity, expired_at=LATER
    )


class TestReserve:
    def test_available_units_are_reserved_until_the_expiry(self):
        assert reserve(given(RECEIVED)) == [reserved()]

    def test_more_than_available_is_insufficient_stock(self):
        with pytest.raises(InsufficientStock) as e:
            reserve(given(RECEIVED, reserved(8)), quantity=3, rid=OTHER)
        assert e.value.code == "insufficient_stock"
        assert e.value.details["available"] == 2

    def test_reserving_the_last_units_raises_out_of_stock(self):
        assert reserve(given(RECEIVED), quantity=10)[-1] == StockAlertRaised(
            sku=SKU, location="WH1", kind="out_of_stock", severity="critical", available=0
        )

    def test_the_same_reservation_twice_writes_nothing(self):
        assert reserve(given(RECEIVED, reserved())) == []

    def test_another_reservation_under_a_used_id_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            reserve(given(RECEIVED, reserved()), quantity=4)
        assert e.value.code == "reservation_exists"

    def test_an_expiry_in_the_past_is_invalid(self):
        with pytest.raises(InvalidCommand) as e:
            reserve(given(RECEIVED), expires_at=NOW)
        assert e.value.code == "invalid_expiry"

    def test_units_of_an_expired_reservation_are_free_and_its_expiry_is_recorded_first(self):
        after = LATER + timedelta(seconds=1)
        events = reserve(given(RECEIVED, reserved(10)), 4, rid=OTHER, now=after, expires_at=None)
        assert events[0] == expired(10)
        assert events[1] == reserved(4, rid=OTHER, expires_at=None)


class TestConfirm:
    def test_confirming_removes_the_expiry(self):
        events = confirm_reservation(
            given(RECEIVED, reserved()), ConfirmReservation(sku=SKU, reservation_id=RID), NOW
        )
        assert events == [ReservationConfirmed(sku=SKU, reservation_id=RID, location="WH1")]

    def test_a_confirmed_reservation_never_expires(self):
        state = given(
            RECEIVED, reserved(), ReservationConfirmed(sku=SKU, reservation_id=RID, location="WH1")
        )
        far = LATER + timedelta(days=30)
        assert expire_due_reservations(state, ExpireDueReservations(sku=SKU), far) == []

    def test_confirming_an_expired_reservation_is_a_conflict_and_writes_nothing(self):
        with pytest.raises(Conflict) as e:
            confirm_reservation(
                given(RECEIVED, reserved()),
                ConfirmReservation(sku=SKU, reservation_id=RID),
                LATER + timedelta(minutes=1),
            )
        assert e.value.code == "reservation_expired"

    def test_confirming_an_unknown_reservation_is_not_found(self):
        with pytest.raises(NotFound) as e:
            confirm_reservation(
                given(RECEIVED), ConfirmReservation(sku=SKU, reservation_id=RID), NOW
            )
        assert e.value.code == "reservation_not_found"


class TestRelease:
    def test_releasing_frees_the_remaining_units(self):
        events = release_reservation(
            given(RECEIVED, reserved()),
            ReleaseReservation(sku=SKU, reservation_id=RID, reason="cancelled"),
            NOW,
        )
        assert events == [
            ReservationReleased(
                sku=SKU, reservation_id=RID, location="WH1", quantity=3, reason="cancelled"
            )
        ]

    def test_releasing_an_inactive_reservation_writes_nothing(self):
        state = given(RECEIVED, reserved(), expired())
        assert (
            release_reservation(
                state, ReleaseReservation(sku=SKU, reservation_id=RID, reason="x"), NOW
            )
            == []
        )

    def test_releasing_an_unknown_reservation_is_not_found(self):
        with pytest.raises(NotFound):
            release_reservation(
                given(), ReleaseReservation(sku=SKU, reservation_id=RID, reason="x"), NOW
            )


class TestExpire:
    def test_a_due_reservation_expires(self):
        state = given(RECEIVED, reserved())
        assert expire_reservation(
            state, ExpireReservation(sku=SKU, reservation_id=RID), LATER + timedelta(seconds=1)
        ) == [expired()]

    def test_a_reservation_not_yet_due_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            expire_reservation(
                given(RECEIVED, reserved()), ExpireReservation(sku=SKU, reservation_id=RID), NOW
            )
        assert e.value.code == "reservation_not_due"

    def test_expiring_an_inactive_reservation_writes_nothing(self):
        state = given(RECEIVED, reserved(), expired())
        assert (
            expire_reservation(
                state, ExpireReservation(sku=SKU, reservation_id=RID), LATER + timedelta(days=1)
            )
            == []
        )

    def test_the_sweep_expires_every_due_reservation(self):
        state = given(RECEIVED, reserved(3), reserved(2, rid=OTHER, expires_at=None))
        assert expire_due_reservations(
            state, ExpireDueReservations(sku=SKU), LATER + timedelta(seconds=1)
        ) == [expired(3)]


class TestCommit:
    def test_committing_lowers_on_hand_and_reserved(self):
        state = given(RECEIVED, reserved(3))
        events = commit_reservation(
            state,
            CommitReservation(sku=SKU, reservation_id=RID, shipment_id=SHIPMENT, quantity=2),
            NOW,
        )
        assert events == [
            StockCommitted(
                sku=SKU, reservation_id=RID, shipment_id=SHIPMENT, location="WH1", quantity=2
            )
        ]
        after = INVENTORY.fold(events, state)
        assert (after.level("WH1").on_hand, after.level("WH1").reserved) == (8, 1)
        assert after.reservations[RID].status == "active"

    def test_a_reservation_records_what_each_shipment_committed_from_it(self):
        second = UUID("00000000-0000-0000-0000-0000000000d2")

        def committed(shipment_id, quantity):
            return StockCommitted(
                sku=SKU,
                reservation_id=RID,
                shipment_id=shipment_id,
                location="WH1",
                quantity=quantity,
            )

        state = given(RECEIVED, reserved(5), committed(SHIPMENT, 2), committed(second, 1))
        shipped = (state.committed_to(RID, s) for s in (SHIPMENT, second, OTHER))
        assert tuple(shipped) == (2, 1, 0)
        assert state.reservations[RID].remaining == 2

    def test_committing_the_remainder_closes_the_reservation(self):
        state = given(RECEIVED, reserved(3))
        events = commit_reservation(
            state, CommitReservation(sku=SKU, reservation_id=RID, shipment_id=SHIPMENT), NOW
        )
        assert INVENTORY.fold(events, state).reservations[RID].status == "committed"

    def test_committing_more_than_the_remainder_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            commit_reservation(
                given(RECEIVED, reserved(3)),
                CommitReservation(sku=SKU, reservation_id=RID, shipment_id=SHIPMENT, quantity=4),
                NOW,
            )
        assert e.value.code == "commit_exceeds_reservation"

    def test_committing_an_expired_reservation_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            commit_reservation(
                given(RECEIVED, reserved(3)),
                CommitReservation(sku=SKU, reservation_id=RID, shipment_id=SHIPMENT),
                LATER + timedelta(seconds=1),
            )
        assert e.value.code == "reservation_expired"

    def test_committing_a_released_reservation_is_a_conflict(self):
        state = given(
            RECEIVED,
            reserved(3),
            ReservationReleased(
                sku=SKU, reservation_id=RID, location="WH1", quantity=3, reason="x"
            ),
        )
        with pytest.raises(Conflict) as e:
            commit_reservation(
                state, CommitReservation(sku=SKU, reservation_id=RID, shipment_id=SHIPMENT), NOW
            )
        assert e.value.code == "reservation_inactive"


def test_a_receipt_after_the_expiry_records_the_expiry_first():
    events = receive_stock(
        given(RECEIVED, reserved(3)),
        ReceiveStock(sku=SKU, location="WH1", quantity=1),
        LATER + timedelta(seconds=1),
    )
    assert events == [expired(3), StockReceived(sku=SKU, location="WH1", quantity=1)]


def test_a_state_a_decision_has_seen_does_not_move_when_more_events_are_folded_onto_it():
    # given a state with a hold
    reserved = StockReserved(
        sku=SKU, reservation_id=RID, order_id=ORDER, line_id=LINE, location="WH1",
        quantity=4, expires_at=LATER,
    )  # fmt: skip
    seen = INVENTORY.fold([RECEIVED, reserved])
    # when later events are folded onto it
    later = INVENTORY.fold(
        [ReservationConfirmed(sku=SKU, reservation_id=RID, location="WH1"),
         StockCommitted(sku=SKU, reservation_id=RID, location="WH1", quantity=4,
                        shipment_id=SHIPMENT)],
        seen,
    )  # fmt: skip
    # then the new state has them and the one seen before is as it was
    assert later.reservations[RID].status == "committed" and later.level("WH1").on_hand == 6
    assert seen == INVENTORY.fold([RECEIVED, reserved])
    assert seen.reservations[RID].expires_at == LATER and seen.level("WH1").reserved == 4
