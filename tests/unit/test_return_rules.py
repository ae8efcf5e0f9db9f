"""Return rules, given / when / then: only delivered units, per line at most what
was delivered and is not already in a return, within 30 days of the delivery; a requested
return may be cancelled (``requested → cancelled``), nothing after that."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.order import fulfillment as order_decide
from domain.order.events import LinesDelivered, LinesShipped, ReturnOpened, ShipmentOpened
from domain.order.values import LineQuantity
from domain.returns import decide
from domain.returns.commands import CancelReturn, ReceiveReturn, RejectReturn
from domain.returns.events import ReturnCancelled, ReturnReceived, ReturnRequested
from domain.returns.state import RETURN
from domain.returns.window import Delivery, require_within_window, returnable_in_window
from tests.unit.test_fulfillment_decisions import SHIP_ID, confirmed_order
from tests.unit.test_order_placement import NOW, ORDER_ID, given

RETURN_ID, OTHER_RETURN = UUID(int=21), UUID(int=22)


def delivered_order(quantity: int = 3):
    events, line_id = confirmed_order()
    lines = [LineQuantity(line_id=line_id, quantity=quantity)]
    opened = ShipmentOpened(shipment_id=SHIP_ID, number=1, location="WH1", carrier="UPS",
                            lines=lines)  # fmt: skip
    return [
        *events,
        opened,
        LinesShipped(shipment_id=SHIP_ID, lines=lines),
        LinesDelivered(shipment_id=SHIP_ID, lines=lines),
    ], line_id


def asking(line_id: str, quantity: int) -> list[LineQuantity]:
    return [LineQuantity(line_id=line_id, quantity=quantity)]


# ---- returns ≤ delivered -----------------------------------------------------------------


def test_a_return_may_ask_back_every_delivered_unit():
    events, line_id = delivered_order(3)
    [opened] = order_decide.open_return(
        given(*events), ORDER_ID, return_id=RETURN_ID, lines=asking(line_id, 3), reason="big"
    )
    assert isinstance(opened, ReturnOpened) and opened.lines[0].quantity == 3


def test_a_return_asking_more_than_delivered_is_refused():
    events, line_id = delivered_order(3)
    with pytest.raises(InvalidCommand) as err:
        order_decide.open_return(
            given(*events), ORDER_ID, return_id=RETURN_ID, lines=asking(line_id, 4), reason="x"
        )
    assert err.value.code == "return_exceeds_delivered"


def test_units_already_in_a_return_cannot_be_asked_back_again():
    events, line_id = delivered_order(3)
    first = ReturnOpened(return_id=OTHER_RETURN, lines=asking(line_id, 2), reason="x")
    with pytest.raises(InvalidCommand) as err:
        order_decide.open_return(
            given(*events, first), ORDER_ID, return_id=RETURN_ID, lines=asking(line_id, 2),
            reason="x",
        )  # fmt: skip
    assert err.value.details["returnable"] == 1


def test_undelivered_units_cannot_be_returned():
    events, line_id = confirmed_order()
    with pytest.raises(InvalidCommand) as err:
        order_decide.open_return(
            given(*events), ORDER_ID, return_id=RETURN_ID, lines=asking(line_id, 1), reason="x"
        )
    assert err.value.code == "return_exceeds_delivered"


# ---- the 30-day window ---------------------------------------------------------------------


def test_units_delivered_within_30_days_may_come_back():
    deliveries = [Delivery("l1", 2, NOW - timedelta(days=10))]
    require_within_window({"l1": 2}, deliveries, {}, NOW)  # no error


def test_the_30th_day_is_still_inside_the_window():
    deliveries = [Delivery("l1", 2, NOW - timedelta(days=30))]
    require_within_window({"l1": 2}, deliveries, {}, NOW)  # no error


def test_a_return_asked_more_than_30_days_after_delivery_is_refused():
    deliveries = [Delivery("l1", 2, NOW - timedelta(days=30, seconds=1))]
    with pytest.raises(InvalidCommand) as err:
        require_within_window({"l1": 1}, deliveries, {}, NOW)
    assert err.value.code == "return_window_closed"
    assert err.value.details["returnable_in_window"] == 0


def test_only_the_recently_delivered_units_of_a_line_may_come_back():
    deliveries = [
        Delivery("l1", 2, NOW - timedelta(days=40)),
        Delivery("l1", 1, NOW - timedelta(days=5)),
    ]
    assert returnable_in_window(deliveries, 0, NOW) == 1
    require_within_window({"l1": 1}, deliveries, {}, NOW)
    with pytest.raises(InvalidCommand):
        require_within_window({"l1": 2}, deliveries, {}, NOW)


def test_returns_already_open_count_against_the_oldest_deliveries_first():
    deliveries = [
        Delivery("l1", 2, NOW - timedelta(days=40)),
        Delivery("l1", 2, NOW - timedelta(days=5)),
    ]
    assert returnable_in_window(deliveries, 2, NOW) == 2  # the old two are the ones in returns
    assert returnable_in_window(deliveries, 3, NOW) == 1
    assert returnable_in_window(deliveries, 4, NOW) == 0


def test_each_line_has_its_own_window():
    deliveries = [
        Delivery("l1", 1, NOW - timedelta(days=40)),
        Delivery("l2", 1, NOW - timedelta(days=1)),
    ]
    require_within_window({"l2": 1}, deliveries, {}, NOW)
    with pytest.raises(InvalidCommand) as err:
        require_within_window({"l1": 1, "l2": 1}, deliveries, {}, NOW)
    assert err.value.details["line_id"] == "l1"


# ---- CancelReturn --------------------------------------------------------------------------


def requested(*more):
    return RETURN.fold(
        [ReturnRequested(order_id=ORDER_ID, lines=asking("l1", 1), reason="x"), *more]
    )


def test_a_requested_return_can_be_cancelled_and_a_repeat_writes_nothing():
    state = requested()
    [event] = decide.cancel(state, CancelReturn(return_id=RETURN_ID, note="changed my mind"))
    assert isinstance(event, ReturnCancelled)
    state = RETURN.fold([event], state)
    assert state.status == "cancelled"
    assert decide.cancel(state, CancelReturn(return_id=RETURN_ID, note=None)) == []


def test_a_received_return_cannot_be_cancelled():
    state = requested(ReturnReceived(order_id=ORDER_ID, restock=False))
    with pytest.raises(IllegalTransition):
        decide.cancel(state, CancelReturn(return_id=RETURN_ID, note=None))


def test_a_cancelled_return_cannot_be_received_or_rejected():
    state = requested(ReturnCancelled(order_id=ORDER_ID))
    with pytest.raises(IllegalTransition):
        decide.receive(state, ReceiveReturn(return_id=RETURN_ID, restock=False))
    with pytest.raises(Conflict):
        decide.reject(state, RejectReturn(return_id=RETURN_ID, note=None))
