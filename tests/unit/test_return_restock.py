"""Restock without a location, given / when / then: each returned unit goes back to the
location it shipped from, earlier returns counted against the oldest shipments first; the
decision is made once, at receipt, and kept on ``ReturnReceived``."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidCommand
from domain.order.values import LineQuantity
from domain.returns.commands import ReceiveReturn
from domain.returns.decide import receive
from domain.returns.events import ReturnReceived, ReturnRequested
from domain.returns.restock import RestockPart, Shipped, restock_to
from domain.returns.state import RETURN

ORDER_ID = uuid4()
RETURN_ID = uuid4()


def test_units_of_one_shipment_go_back_to_its_location():
    parts = restock_to([Shipped("l1", "WH1", 2)], {}, [LineQuantity(line_id="l1", quantity=2)])
    assert parts == [RestockPart(line_id="l1", location="WH1", quantity=2)]


def test_a_line_shipped_from_two_locations_sends_each_unit_back_to_its_own():
    # Given 2 units from WH1 then 1 from WH2, and one unit of the line returned before
    shipped = [Shipped("l1", "WH1", 2), Shipped("l1", "WH2", 1)]
    # When 2 more units come back
    parts = restock_to(shipped, {"l1": 1}, [LineQuantity(line_id="l1", quantity=2)])
    # Then WH1's last unit and WH2's unit go back
    assert parts == [
        RestockPart(line_id="l1", location="WH1", quantity=1),
        RestockPart(line_id="l1", location="WH2", quantity=1),
    ]


def test_lines_are_matched_to_their_own_shipments_only():
    shipped = [Shipped("l1", "WH1", 1), Shipped("l2", "WH2", 3)]
    lines = [LineQuantity(line_id="l2", quantity=2), LineQuantity(line_id="l1", quantity=1)]
    assert restock_to(shipped, {}, lines) == [
        RestockPart(line_id="l2", location="WH2", quantity=2),
        RestockPart(line_id="l1", location="WH1", quantity=1),
    ]


def test_units_no_delivered_shipment_accounts_for_need_a_location():
    with pytest.raises(InvalidCommand) as err:
        restock_to([Shipped("l1", "WH1", 1)], {"l1": 1}, [LineQuantity(line_id="l1", quantity=1)])
    assert err.value.code == "location_required"


@settings(max_examples=50, deadline=None)
@given(
    shipments=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 5)), min_size=1, max_size=6
    ),
    data=st.data(),
)
def test_every_returned_unit_goes_to_a_location_that_still_has_shipped_units(shipments, data):
    shipped = [Shipped("l1", code, q) for code, q in shipments]
    total = sum(q for _c, q in shipments)
    before = data.draw(st.integers(0, total - 1))
    quantity = data.draw(st.integers(1, total - before))
    parts = restock_to(shipped, {"l1": before}, [LineQuantity(line_id="l1", quantity=quantity)])
    assert sum(p.quantity for p in parts) == quantity
    # earlier returns and this one together never send more to a location than it shipped
    earlier = (
        restock_to(shipped, {}, [LineQuantity(line_id="l1", quantity=before)]) if before else []
    )
    for code in {c for c, _q in shipments}:
        back = sum(p.quantity for p in [*earlier, *parts] if p.location == code)
        assert back <= sum(q for c, q in shipments if c == code)


def _requested():
    line = LineQuantity(line_id="l1", quantity=1)
    return RETURN.fold([ReturnRequested(order_id=ORDER_ID, lines=[line], reason="too big")])


def test_receipt_keeps_where_the_units_go_and_the_state_remembers_it():
    part = RestockPart(line_id="l1", location="WH1", quantity=1)
    [event] = receive(
        _requested(),
        ReceiveReturn(return_id=RETURN_ID, restock=True, location=None),
        restock_to=[part],
    )
    assert event == ReturnReceived(order_id=ORDER_ID, restock=True, restock_to=[part])
    state = RETURN.fold([event], _requested())
    assert (state.status, state.location, state.restock_to) == ("received", None, (part,))


def test_a_named_location_wins_and_no_restock_keeps_no_parts():
    part = RestockPart(line_id="l1", location="WH1", quantity=1)
    [named] = receive(
        _requested(),
        ReceiveReturn(return_id=RETURN_ID, restock=True, location="WH9"),
        restock_to=[part],
    )
    assert (named.location, named.restock_to) == ("WH9", [])
    [kept] = receive(
        _requested(),
        ReceiveReturn(return_id=RETURN_ID, restock=False, location=None),
        restock_to=[part],
    )
    assert (kept.restock, kept.restock_to) == (False, [])


def test_a_restock_with_neither_location_nor_parts_is_refused():
    with pytest.raises(InvalidCommand) as err:
        receive(_requested(), ReceiveReturn(return_id=RETURN_ID, restock=True, location=None))
    assert err.value.code == "location_required"


def test_an_event_stored_before_parts_existed_still_loads():
    old = ReturnReceived.model_validate(
        {"order_id": str(ORDER_ID), "restock": True, "location": "W"}
    )
    assert old.restock_to == []
