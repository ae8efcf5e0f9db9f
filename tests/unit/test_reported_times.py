"""Reported business times, given / when / then: a carrier's event or a delivery attempt dated
before the order was placed, or further in the future than the clock skew, is refused with
nothing decided; inside the range its time is the one recorded, and a delivery's time is what
the return window counts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.errors import InvalidCommand
from domain.order import fulfillment as order_decide
from domain.order.events import LinesDelivered, LinesShipped, ShipmentOpened
from domain.order.fulfillment_commands import RecordLinesDelivered
from domain.order.values import LineQuantity
from domain.reported_time import CLOCK_SKEW, ReportedTimes
from domain.returns.window import Delivery, require_within_window
from domain.shipment.commands import RecordDeliveryAttempt, RecordTracking
from domain.shipment.decide import record_attempt, record_tracking
from domain.shipment.events import (
    DeliveryAttemptRecorded,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentTrackingUpdated,
)
from domain.shipment.state import SHIPMENT
from tests.unit.test_fulfillment_decisions import confirmed_order
from tests.unit.test_order_placement import ORDER_ID, given

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PLACED = NOW - timedelta(days=3)
TIMES = ReportedTimes(earliest=PLACED, now=NOW)
SHIP_ID = UUID("00000000-0000-4000-8000-0000000000aa")


def created():
    return ShipmentCreated(
        order_id=ORDER_ID, number=1, location="WH1", carrier="UPS",
        lines=[LineQuantity(line_id="l1", quantity=1)],
    )  # fmt: skip


def dispatched():
    shipment = SHIPMENT.fold([created()])
    events = record_tracking(
        shipment, RecordTracking(shipment_id=SHIP_ID, status="picked_up"), TIMES
    )
    return SHIPMENT.fold(events, shipment)


def tracking(status: str, at: datetime | None) -> RecordTracking:
    return RecordTracking(shipment_id=SHIP_ID, status=status, occurred_at=at)


def attempt(outcome: str, at: datetime | None, **more) -> RecordDeliveryAttempt:
    return RecordDeliveryAttempt(shipment_id=SHIP_ID, outcome=outcome, occurred_at=at, **more)


# ---- when refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        PLACED - timedelta(microseconds=1),  # before the order was placed
        PLACED - timedelta(days=400),
        NOW + CLOCK_SKEW + timedelta(microseconds=1),  # beyond the skew
        NOW + timedelta(days=2),
    ],
)
def test_a_tracking_event_dated_out_of_range_is_refused(at):
    given_shipment = SHIPMENT.fold([created()])
    with pytest.raises(InvalidCommand) as err:
        record_tracking(given_shipment, tracking("picked_up", at), TIMES)
    assert err.value.code == "occurred_at_out_of_range"
    assert err.value.details["earliest"] == PLACED.isoformat()
    assert err.value.details["latest"] == (NOW + CLOCK_SKEW).isoformat()


@pytest.mark.parametrize("at", [PLACED - timedelta(seconds=1), NOW + timedelta(hours=1)])
def test_a_delivery_attempt_dated_out_of_range_is_refused(at):
    with pytest.raises(InvalidCommand) as err:
        record_attempt(dispatched(), attempt("successful", at), TIMES)
    assert err.value.code == "occurred_at_out_of_range"


def test_a_next_attempt_planned_before_the_attempt_is_refused():
    at = NOW - timedelta(hours=2)
    with pytest.raises(InvalidCommand) as err:
        record_attempt(
            dispatched(),
            attempt("customer_not_home", at, failure_reason="out",
                    next_attempt_at=at - timedelta(minutes=1)),
            TIMES,
        )  # fmt: skip
    assert err.value.code == "next_attempt_at_out_of_range"


def test_the_skew_is_the_one_given():
    tight = ReportedTimes(earliest=PLACED, now=NOW, skew=timedelta(0))
    shipment = SHIPMENT.fold([created()])
    record_tracking(shipment, tracking("label_created", NOW), tight)
    with pytest.raises(InvalidCommand):
        record_tracking(shipment, tracking("label_created", NOW + timedelta(seconds=1)), tight)


# ---- when accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize("at", [PLACED, NOW - timedelta(days=1), NOW, NOW + CLOCK_SKEW])
def test_a_delivered_event_inside_the_range_records_its_own_time(at):
    events = record_tracking(dispatched(), tracking("delivered", at), TIMES)
    assert isinstance(events[0], ShipmentTrackingUpdated) and events[0].occurred_at == at
    delivered = events[-1]
    assert isinstance(delivered, ShipmentDelivered) and delivered.delivered_at == at
    assert SHIPMENT.fold(events, dispatched()).delivered_at == at


def test_without_a_time_the_event_happened_now():
    events = record_tracking(SHIPMENT.fold([created()]), tracking("picked_up", None), TIMES)
    dispatch = events[-1]
    assert isinstance(dispatch, ShipmentDispatched) and dispatch.shipped_at == NOW


def test_a_successful_attempt_delivers_at_the_attempts_time():
    at = NOW - timedelta(hours=5)
    events = record_attempt(dispatched(), attempt("successful", at), TIMES)
    recorded, delivered = events
    assert isinstance(recorded, DeliveryAttemptRecorded) and recorded.occurred_at == at
    assert isinstance(delivered, ShipmentDelivered) and delivered.delivered_at == at


# ---- the return window counts from the recorded delivery -------------------------------------


def test_the_orders_delivered_lines_carry_the_shipments_delivery_time():
    delivered_at = NOW - timedelta(days=2)
    events, line_id = confirmed_order()
    opened = ShipmentOpened(
        shipment_id=SHIP_ID, number=1, location="WH1", carrier="UPS",
        lines=[LineQuantity(line_id=line_id, quantity=3)],
    )  # fmt: skip
    shipped = LinesShipped(shipment_id=SHIP_ID, lines=opened.lines)
    order = given(*events, opened, shipped)
    events = order_decide.record_lines_delivered(
        order,
        RecordLinesDelivered(order_id=ORDER_ID, shipment_id=SHIP_ID, delivered_at=delivered_at),
    )
    assert isinstance(events[0], LinesDelivered) and events[0].delivered_at == delivered_at


def test_the_window_counts_from_the_carriers_delivery_time_not_from_when_it_was_recorded():
    reported = NOW - timedelta(days=31)  # the carrier delivered 31 days ago, reported today
    deliveries = [Delivery("l1", 1, reported)]
    with pytest.raises(InvalidCommand) as err:
        require_within_window({"l1": 1}, deliveries, {}, NOW)
    assert err.value.code == "return_window_closed"
    assert err.value.details["last_delivered_at"] == reported.isoformat()
    require_within_window({"l1": 1}, [Delivery("l1", 1, NOW - timedelta(days=29))], {}, NOW)
