"""What the placement saga and a cancellation decide of an order, given / when / then:
confirming it (``ConfirmOrder``), cancelling it whole (``CancelOrder``) or its unshipped rest
(``CancelUnshippedLines``)."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.errors import IllegalTransition
from domain.order.commands import CancelOrder, ConfirmOrder
from domain.order.decide import cancel_order, confirm_order
from domain.order.events import OrderCancelled, OrderConfirmed
from domain.order.fulfillment import cancel_unshipped
from domain.order.fulfillment_commands import CancelUnshippedLines
from tests.unit.test_order_placement import NOW, ORDER_ID, given, placed, priced

RESERVATION = UUID(int=31)


def allocations(event):  # noqa: ANN001, ANN201
    line = event.lines[0]
    return [
        {"line_id": line.line_id, "sku": line.sku, "location": "WH1",
         "quantity": line.quantity, "reservation_id": str(RESERVATION)},
    ]  # fmt: skip


def test_a_placed_order_is_confirmed_with_its_allocations():
    # given a placed order
    order = placed(priced("A", 2))
    # when the saga confirms it
    c = ConfirmOrder(order_id=ORDER_ID, allocations=allocations(order))
    # then it is confirmed where its lines are held, at the decision's time
    assert confirm_order(given(order), c, NOW) == [
        OrderConfirmed(allocations=allocations(order), confirmed_at=NOW)
    ]


def test_confirming_a_confirmed_order_again_writes_nothing():
    order = placed()
    c = ConfirmOrder(order_id=ORDER_ID, allocations=allocations(order))
    state = given(order, *confirm_order(given(order), c, NOW))
    assert confirm_order(state, c, NOW) == []


def test_a_cancelled_order_cannot_be_confirmed():
    order = placed()
    cancelled = cancel_order(
        given(order), CancelOrder(order_id=ORDER_ID, reason="x"), NOW, actor="a"
    )
    with pytest.raises(IllegalTransition):
        confirm_order(
            given(order, *cancelled),
            ConfirmOrder(order_id=ORDER_ID, allocations=allocations(order)),
            NOW,
        )


def test_an_order_is_cancelled_by_whoever_asks_and_once():
    # given a placed order
    order = placed()
    # when the saga cancels it for want of stock
    c = CancelOrder(order_id=ORDER_ID, reason="out_of_stock")
    events = cancel_order(given(order), c, NOW, actor="process:order_placement")
    # then it is cancelled with the reason and who asked; again, nothing more
    assert events == [
        OrderCancelled(
            reason="out_of_stock", cancelled_at=NOW, cancelled_by="process:order_placement"
        )
    ]
    assert cancel_order(given(order, *events), c, NOW, actor="x") == []


def test_cancelling_the_unshipped_rest_of_an_order_that_shipped_nothing_cancels_every_unit():
    order = placed(priced("A", 3))
    state = given(order, OrderConfirmed(allocations=allocations(order), confirmed_at=NOW))
    [event] = cancel_unshipped(state, CancelUnshippedLines(order_id=ORDER_ID, reason="customer"))
    assert [(x.line_id, x.quantity) for x in event.lines] == [(order.lines[0].line_id, 3)]
