"""Line edits, given / when / then: the request records only the intent; the plan says what
carrying it out means; applying or rejecting it settles it, once."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.money import Money
from domain.order.events import (
    LineEditRejected,
    LineEditRequested,
    LinesRevised,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
)
from domain.order.line_edit_commands import AddLine, ChangeLine, RemoveLine
from domain.order.line_edits import apply_edit, plan_edit, reject_edit, request_edit
from domain.order.state import OrderState
from domain.order.values import PricedLine
from tests.unit.test_order_placement import NOW, ORDER_ID, given, placed, priced

EDIT = UUID("00000000-0000-4000-8000-00000000ed17")
R1, R2 = uuid4(), uuid4()
NEW_LINE = "00000000-0000-4000-8000-0000000000a3"
SHIRT = PricedLine("C", uuid4(), "Shirt", 3, Money.of("10.00", "USD"))


def _confirmed() -> list:
    order = placed(priced("A", 2, "19.99"), priced("B", 1, "5.00"))
    a, b = (line.line_id for line in order.lines)
    allocations = [
        {"line_id": a, "sku": "A", "location": "WH1", "quantity": 2, "reservation_id": str(R1)},
        {"line_id": b, "sku": "B", "location": "WH2", "quantity": 1, "reservation_id": str(R2)},
    ]
    return [order, OrderConfirmed(allocations=allocations, confirmed_at=NOW)]


CONFIRMED = _confirmed()


def confirmed() -> list:
    """An order of 2 × A at 19.99 and 1 × B at 5.00, held at WH1 and WH2."""
    return list(CONFIRMED)


def line_ids(state: OrderState) -> list[str]:
    return [ln.line_id for ln in state.lines]


def request(state: OrderState, command, **kw) -> list:
    return request_edit(state, command, NOW, edit_id=EDIT, actor="agent-7", **kw)


def add(quantity: int = 3) -> AddLine:
    return AddLine(order_id=ORDER_ID, sku="C", quantity=quantity, reason="asked")


def test_asking_to_add_a_line_records_the_request_priced_now_and_nothing_else():
    state = given(*confirmed())
    [event] = request(state, add(), new_line_id=NEW_LINE, priced=SHIRT)
    assert event == LineEditRequested(
        edit_id=EDIT, kind="add", line_id=NEW_LINE, sku="C", quantity=3, old_quantity=None,
        reason="asked", actor="agent-7", product_id=SHIRT.product_id, name="Shirt",
        unit_price=Money.of("10.00", "USD"),
    )  # fmt: skip
    after = given(*confirmed(), event)
    assert after.pending_edit == event and after.edit_status(EDIT) == "pending"
    assert after.lines == state.lines and after.total == state.total


def test_a_change_records_the_old_quantity_and_a_change_to_the_same_records_nothing():
    state = given(*confirmed())
    line_id = line_ids(state)[0]
    [event] = request(state, ChangeLine(order_id=ORDER_ID, line_id=line_id, quantity=5, reason="x"))
    assert (event.kind, event.quantity, event.old_quantity, event.sku) == ("change", 5, 2, "A")
    same = ChangeLine(order_id=ORDER_ID, line_id=line_id, quantity=2, reason="x")
    assert request(state, same) == []


@pytest.mark.parametrize(
    ("command", "error", "code"),
    [
        (ChangeLine(order_id=ORDER_ID, line_id="nope", quantity=1, reason="x"), NotFound,
         "line_not_found"),
        (RemoveLine(order_id=ORDER_ID, line_id="nope"), NotFound, "line_not_found"),
        (AddLine(order_id=ORDER_ID, sku="C", quantity=0, reason="x"), InvalidCommand,
         "invalid_quantity"),
        (AddLine(order_id=ORDER_ID, sku="C", quantity=1001, reason="x"), InvalidCommand,
         "invalid_quantity"),
        (AddLine(order_id=ORDER_ID, sku="C", quantity=1, reason="  "), InvalidCommand,
         "reason_required"),
    ],
)  # fmt: skip
def test_a_request_the_order_can_refuse_itself_is_refused(command, error, code):
    with pytest.raises(error) as refused:
        request(given(*confirmed()), command, new_line_id=NEW_LINE, priced=SHIRT)
    assert refused.value.code == code


def test_the_last_line_cannot_be_removed():
    order = placed(priced("A", 1))
    allocation = {"line_id": order.lines[0].line_id, "sku": "A", "location": "WH1",
                  "quantity": 1, "reservation_id": str(R1)}  # fmt: skip
    state = given(order, OrderConfirmed(allocations=[allocation], confirmed_at=NOW))
    with pytest.raises(Conflict) as refused:
        request(state, RemoveLine(order_id=ORDER_ID, line_id=order.lines[0].line_id))
    assert refused.value.code == "last_line"


def test_an_order_not_confirmed_or_cancelled_takes_no_edit():
    with pytest.raises(Conflict) as refused:
        request(given(placed(priced("A", 1))), add(), new_line_id=NEW_LINE, priced=SHIRT)
    assert refused.value.code == "order_not_confirmed"
    cancelled = OrderCancelled(reason="customer_request", cancelled_at=NOW, cancelled_by="x")
    with pytest.raises(Conflict) as refused:
        request(given(*confirmed(), cancelled), add(), new_line_id=NEW_LINE, priced=SHIRT)
    assert refused.value.code == "order_cancelled"


def test_one_edit_at_a_time_a_second_request_while_one_is_pending_is_refused():
    [first] = request(given(*confirmed()), add(), new_line_id=NEW_LINE, priced=SHIRT)
    state = given(*confirmed(), first)
    line_id = line_ids(state)[0]
    second = ChangeLine(order_id=ORDER_ID, line_id=line_id, quantity=1, reason="x")
    with pytest.raises(Conflict) as refused:
        request_edit(state, second, NOW, edit_id=uuid4(), actor="agent-7")
    assert refused.value.code == "edit_in_progress"
    assert refused.value.details == {"edit_id": str(EDIT)}
    # once it is rejected, the next one is taken
    rejected = given(*confirmed(), first, *reject_edit(state, edit_id=EDIT, reason="x"))
    assert request_edit(rejected, second, NOW, edit_id=uuid4(), actor="agent-7")


# ---- the plan ------------------------------------------------------------------------------


def test_an_added_line_reserves_its_quantity_and_raises_the_total():
    [event] = request(given(*confirmed()), add(), new_line_id=NEW_LINE, priced=SHIRT)
    plan = plan_edit(given(*confirmed(), event), event)
    assert (plan.line_id, plan.sku, plan.reserve, plan.release) == (NEW_LINE, "C", 3, [])
    assert len(plan.kept) == 2 and [x.quantity for x in plan.lines] == [2, 1, 3]
    assert plan.total == Decimal("74.98")


def test_a_shrinking_line_releases_its_reservations_and_reserves_what_stays():
    state = given(*confirmed())
    a = line_ids(state)[0]
    [event] = request(state, ChangeLine(order_id=ORDER_ID, line_id=a, quantity=1, reason="x"))
    plan = plan_edit(given(*confirmed(), event), event)
    assert [r["reservation_id"] for r in plan.release] == [str(R1)]
    assert [r["reservation_id"] for r in plan.kept] == [str(R2)]
    assert plan.reserve == 1 and plan.total == Decimal("24.99")


def test_a_growing_line_reserves_only_the_difference():
    state = given(*confirmed())
    a = line_ids(state)[0]
    [event] = request(state, ChangeLine(order_id=ORDER_ID, line_id=a, quantity=5, reason="x"))
    plan = plan_edit(given(*confirmed(), event), event)
    assert (plan.reserve, plan.release, len(plan.kept)) == (3, [], 2)


def test_a_removed_line_releases_its_reservations_and_reserves_nothing():
    state = given(*confirmed())
    b = line_ids(state)[1]
    [event] = request(state, RemoveLine(order_id=ORDER_ID, line_id=b, reason="gone"))
    plan = plan_edit(given(*confirmed(), event), event)
    assert ([r["reservation_id"] for r in plan.release], plan.reserve) == ([str(R2)], 0)
    assert [x.sku for x in plan.lines] == ["A"] and plan.total == Decimal("39.98")


# ---- applied or rejected -------------------------------------------------------------------


def test_applying_records_the_modification_and_the_revised_lines_once():
    [event] = request(given(*confirmed()), add(), new_line_id=NEW_LINE, priced=SHIRT)
    state = given(*confirmed(), event)
    added = {"line_id": NEW_LINE, "sku": "C", "location": "WH1", "quantity": 3,
             "reservation_id": str(uuid4())}  # fmt: skip
    modified, revised = apply_edit(state, ORDER_ID, edit_id=EDIT, added=added)
    assert modified == OrderModified(
        field="lines", modification_type="item_added", old_value=None,
        new_value={"line_id": NEW_LINE, "quantity": 3}, reason="asked", actor="agent-7",
    )  # fmt: skip
    assert isinstance(revised, LinesRevised) and revised.edit_id == EDIT
    assert revised.allocations[-1] == added and revised.total == Money.of("74.98", "USD")
    after = given(*confirmed(), event, modified, revised)
    assert after.pending_edit is None and after.edit_status(EDIT) == "applied"
    assert [(x.sku, x.quantity, x.reserved) for x in after.lines] == [
        ("A", 2, 2), ("B", 1, 1), ("C", 3, 3)
    ]  # fmt: skip
    # a replay after it was applied, or a rejection arriving late, records nothing
    assert apply_edit(after, ORDER_ID, edit_id=EDIT, added=added) == []
    assert reject_edit(after, edit_id=EDIT, reason="payment_declined") == []


def test_a_rejection_records_why_and_leaves_the_lines_as_they_were():
    state = given(*confirmed())
    [event] = request(state, add(), new_line_id=NEW_LINE, priced=SHIRT)
    pending = given(*confirmed(), event)
    [rejected] = reject_edit(pending, edit_id=EDIT, reason="insufficient_stock", message="none")
    assert rejected == LineEditRejected(edit_id=EDIT, reason="insufficient_stock", message="none")
    after = given(*confirmed(), event, rejected)
    assert after.pending_edit is None and after.edit_status(EDIT) is None
    assert after.lines == state.lines and after.total == state.total
    assert reject_edit(after, edit_id=EDIT, reason="insufficient_stock") == []


def test_an_edit_pending_when_the_order_was_cancelled_is_not_applied():
    [event] = request(given(*confirmed()), add(), new_line_id=NEW_LINE, priced=SHIRT)
    cancelled = OrderCancelled(reason="customer_request", cancelled_at=NOW, cancelled_by="x")
    with pytest.raises(Conflict) as refused:
        apply_edit(given(*confirmed(), event, cancelled), ORDER_ID, edit_id=EDIT, added=None)
    assert refused.value.code == "order_cancelled"


def test_an_order_that_got_promotions_keeps_its_lines():
    # given a confirmed order with a discount decided at placement
    order, confirmation = confirmed()
    discounted = order.model_copy(update={"discount": Money.of("4.00", "USD")})
    state = given(discounted, confirmation)
    # when a line is to be added, changed or removed, then it is refused with its code
    for command in (
        add(),
        ChangeLine(order_id=ORDER_ID, line_id=state.lines[0].line_id, quantity=1, reason="r"),
        RemoveLine(order_id=ORDER_ID, line_id=state.lines[1].line_id, reason="r"),
    ):
        with pytest.raises(InvalidCommand) as refused:
            request(state, command, new_line_id=NEW_LINE, priced=SHIRT)
        assert refused.value.code == "promotion_line_edit_unsupported"
    # and an order without one (zero discount) still takes them
    plain = given(order.model_copy(update={"discount": Money.of("0.00", "USD")}), confirmation)
    assert request(plain, add(), new_line_id=NEW_LINE, priced=SHIRT)
