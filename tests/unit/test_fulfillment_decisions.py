"""Fulfillment decisions, given / when / then: plans, shipments, tracking and attempts,
order-side shipment numbering, cancellation requests, splits and refunds in flight."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.fulfillment.commands import UpdatePlan
from domain.fulfillment.decide import update_plan
from domain.fulfillment.events import PlanCreated, PlanLine
from domain.fulfillment.state import PLAN
from domain.order import fulfillment as order_decide
from domain.order.events import LinesShipped, OrderConfirmed, ShipmentOpened
from domain.order.fulfillment_commands import (
    LineUnits,
    RequestCancellation,
    SplitOrder,
    SplitPart,
)
from domain.order.values import LineQuantity
from domain.payment.commands import RefundPayment, SettleRefund
from domain.payment.decide import request_refund, settle_refund
from domain.payment.events import PaymentAuthorized, PaymentCaptured
from domain.payment.state import PAYMENT, payment_status
from domain.reported_time import ReportedTimes
from domain.shipment.commands import OpenShipment, RecordDeliveryAttempt, RecordTracking
from domain.shipment.decide import record_attempt, record_tracking
from domain.shipment.events import (
    DeliveryAttemptRecorded,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
)
from domain.shipment.state import SHIPMENT
from tests.unit.test_order_placement import NOW, ORDER_ID, given, placed, priced

PLAN_ID, SHIP_ID, R1, R2 = UUID(int=5), UUID(int=6), UUID(int=7), UUID(int=8)


def confirmed_order():
    event = placed(priced("A", 3, "10.00"))
    line_id = event.lines[0].line_id
    alloc = {"line_id": line_id, "sku": "A", "location": "WH1", "quantity": 3,
             "reservation_id": str(R1)}  # fmt: skip
    return [event, OrderConfirmed(allocations=[alloc], confirmed_at=NOW)], line_id


def plan(*more):
    created = PlanCreated(
        order_id=ORDER_ID, location="WH1", priority="high", strategy="single_warehouse",
        lines=[PlanLine(line_id="l1", sku="A", allocated=2, reservation_id=R1)],
    )  # fmt: skip
    return PLAN.fold([created, *more])


# ---- plans -------------------------------------------------------------------------------


def test_a_plan_moves_planned_to_picking_and_refuses_to_go_back():
    state = plan()
    state = PLAN.fold(update_plan(state, UpdatePlan(plan_id=PLAN_ID, status="picking")), state)
    assert state.status == "picking"
    with pytest.raises(IllegalTransition):
        update_plan(state, UpdatePlan(plan_id=PLAN_ID, status="planned"))


def test_picked_never_exceeds_allocated_and_packed_never_exceeds_picked():
    state = PLAN.fold(update_plan(plan(), UpdatePlan(plan_id=PLAN_ID, status="picking")), plan())
    with pytest.raises(InvalidCommand) as err:
        update_plan(state, UpdatePlan(plan_id=PLAN_ID, status=None, picked={"l1": 3}))
    assert err.value.code == "picked_exceeds_allocated"
    state = PLAN.fold(
        update_plan(state, UpdatePlan(plan_id=PLAN_ID, status=None, picked={"l1": 1})), state
    )
    with pytest.raises(InvalidCommand) as err:
        update_plan(state, UpdatePlan(plan_id=PLAN_ID, status=None, packed={"l1": 2}))
    assert err.value.code == "packed_exceeds_picked"


def test_a_held_plan_resumes_only_to_the_status_it_left():
    state = PLAN.fold(update_plan(plan(), UpdatePlan(plan_id=PLAN_ID, status="on_hold")), plan())
    with pytest.raises(IllegalTransition):
        update_plan(state, UpdatePlan(plan_id=PLAN_ID, status="picking"))
    state = PLAN.fold(update_plan(state, UpdatePlan(plan_id=PLAN_ID, status="planned")), state)
    assert state.status == "planned"


# ---- shipments -----------------------------------------------------------------------------


def shipment(*more):
    created = ShipmentCreated(
        order_id=ORDER_ID, number=1, location="WH1", carrier="UPS",
        lines=[LineQuantity(line_id="l1", quantity=1)],
    )  # fmt: skip
    return SHIPMENT.fold([created, *more])


#: Reported times may lie from the order's placement (a day before NOW) to NOW plus the skew.
TIMES = ReportedTimes(earliest=NOW - timedelta(days=1), now=NOW)


def track(state, code):
    return record_tracking(state, RecordTracking(shipment_id=SHIP_ID, status=code), TIMES)


def attempt(outcome, failure_reason=None):
    return RecordDeliveryAttempt(
        shipment_id=SHIP_ID, outcome=outcome, failure_reason=failure_reason
    )


def test_picked_up_dispatches_once_and_late_events_never_move_the_status_back():
    events = track(shipment(), "picked_up")
    assert [type(e) for e in events][-1] is ShipmentDispatched
    state = SHIPMENT.fold(events, shipment())
    assert state.status == "shipped"
    again = track(state, "picked_up")
    assert not any(isinstance(e, ShipmentDispatched) for e in again)
    late = track(state, "label_created")
    assert SHIPMENT.fold(late, state).status == "shipped"


def test_attempts_are_numbered_and_a_third_failure_is_an_exception():
    state = SHIPMENT.fold(track(shipment(), "picked_up"), shipment())
    for n in (1, 2, 3):
        events = record_attempt(state, attempt("customer_not_home", "out"), TIMES)
        assert isinstance(events[0], DeliveryAttemptRecorded) and events[0].attempt == n
        state = SHIPMENT.fold(events, state)
    assert state.status == "exception"


def test_a_successful_attempt_delivers_and_a_failure_needs_a_reason():
    state = SHIPMENT.fold(track(shipment(), "picked_up"), shipment())
    with pytest.raises(InvalidCommand):
        record_attempt(state, attempt("failed"), TIMES)
    events = record_attempt(state, attempt("successful"), TIMES)
    assert isinstance(events[-1], ShipmentDelivered)


# ---- the order's side ------------------------------------------------------------------------


def units(line_id: str, quantity: int) -> LineUnits:
    return LineUnits(line_id=line_id, quantity=quantity)


def test_shipments_are_numbered_and_over_shipping_is_refused():
    events, line_id = confirmed_order()
    state = given(*events)
    two = OpenShipment(order_id=ORDER_ID, location="WH1", lines=[units(line_id, 2)])
    [first] = order_decide.open_shipment(state, two, SHIP_ID, "UPS")
    assert isinstance(first, ShipmentOpened) and first.number == 1
    state = given(*events, first)
    with pytest.raises(InvalidCommand) as err:
        order_decide.open_shipment(state, two, UUID(int=9), "UPS")
    assert err.value.code == "over_shipment"


def test_a_fully_shipped_order_cannot_be_cancelled_use_a_return():
    events, line_id = confirmed_order()
    opened = ShipmentOpened(
        shipment_id=SHIP_ID, number=1, location="WH1", carrier="UPS",
        lines=[LineQuantity(line_id=line_id, quantity=3)],
    )  # fmt: skip
    shipped = LinesShipped(shipment_id=SHIP_ID, lines=opened.lines)
    state = given(*events, opened, shipped)
    assert state.status == "shipped"
    with pytest.raises(Conflict) as err:
        order_decide.request_cancellation(
            state, RequestCancellation(order_id=ORDER_ID, reason="customer_request"), R2, "a"
        )
    assert err.value.code == "use_a_return"


def test_a_split_whose_parts_do_not_sum_is_refused():
    events, line_id = confirmed_order()
    with pytest.raises(InvalidCommand) as err:
        order_decide.split_order(
            given(*events),
            SplitOrder(
                order_id=ORDER_ID, reason="multi_warehouse",
                parts=[SplitPart(location="WH1", lines=[units(line_id, 1)]),
                       SplitPart(location="WH2", lines=[units(line_id, 1)])],
            ),
            [(UUID(int=30), 1), (UUID(int=31), 2)], "a", NOW,
        )  # fmt: skip
    assert err.value.code == "split_quantities_mismatch"


# ---- refunds in flight ------------------------------------------------------------------------


def test_a_refund_in_flight_counts_against_what_can_still_be_refunded():
    state = PAYMENT.fold(
        [
            PaymentAuthorized(
                order_id=ORDER_ID,
                amount=Decimal("100.00"),
                currency="USD",
                gateway="sandbox",
                gateway_reference="r",
                idempotency_key="k",
            ),
            PaymentCaptured(
                capture_id=UUID(int=40), amount=Decimal("100.00"), gateway_reference="c"
            ),
        ]  # fmt: skip
    )
    assert payment_status(state) == "paid"
    state = PAYMENT.fold(
        request_refund(
            state,
            RefundPayment(order_id=ORDER_ID, refund_id=R1, amount=Decimal("60.00"), reason="x"),
        ),
        state,
    )
    with pytest.raises(Conflict) as err:
        request_refund(
            state,
            RefundPayment(order_id=ORDER_ID, refund_id=R2, amount=Decimal("50.00"), reason="x"),
        )
    assert err.value.code == "refund_exceeds_captured"
    settle = SettleRefund(order_id=ORDER_ID, refund_id=R1, reason="x")
    settled = settle_refund(state, settle, succeeded=True, gateway_reference="g")
    state = PAYMENT.fold(settled, state)
    assert (state.refunded, payment_status(state)) == (Decimal("60.00"), "partially_refunded")
    assert settle_refund(state, settle, succeeded=True, gateway_reference="g") == []
