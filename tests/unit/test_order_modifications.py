"""ModifyOrder, given / when / then: one event per changed field, old value from state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.order.commands import ModifyOrder
from domain.order.decide import modify_order
from domain.order.events import OrderModified, OrderSplit
from domain.order.state import OrderState
from domain.order.values import Address, GiftOptions
from tests.unit.test_order_placement import ADDRESS, NOW, ORDER_ID, given, placed


def modify(state: OrderState, **changes):
    """When ModifyOrder with ``changes`` (and a reason) is decided at NOW by agent-7."""
    changes.setdefault("reason", "customer asked")
    return modify_order(state, ModifyOrder(order_id=ORDER_ID, **changes), NOW, actor="agent-7")


def test_changing_priority_records_old_new_reason_and_actor():
    [event] = modify(given(placed()), priority="urgent")
    assert event == OrderModified(
        field="priority",
        modification_type="priority_change",
        old_value="normal",
        new_value="urgent",
        reason="customer asked",
        actor="agent-7",
    )


def test_each_changed_field_is_its_own_event_and_unchanged_fields_write_nothing():
    new_address = ADDRESS.model_copy(update={"city": "Shelbyville"})
    events = modify(
        given(placed()),
        priority="normal",
        shipping_address=new_address,
        gift=GiftOptions(wrap=True, message="Happy birthday"),
        scheduled_delivery=date(2026, 3, 10),
    )
    assert [(e.field, e.modification_type) for e in events] == [
        ("shipping_address", "address_change"),
        ("gift", "gift_options_change"),
        ("scheduled_delivery", "delivery_date_change"),
    ]
    assert events[0].old_value["city"] == "Springfield"
    assert events[0].new_value["city"] == "Shelbyville"
    assert events[1].old_value is None and events[2].new_value == "2026-03-10"


def test_a_modification_evolves_the_state_so_the_next_old_value_is_the_new_one():
    state = given(placed(), *modify(given(placed()), priority="high"))
    [event] = modify(state, priority="low")
    assert (event.old_value, event.new_value) == ("high", "low")
    assert modify(state, priority="high") == []


def test_the_address_round_trips_through_the_event():
    new_address = Address(
        name="Bo", line1="2 Elm", city="Ogdenville", postal_code="9", country="CA"
    )
    state = given(placed(), *modify(given(placed()), shipping_address=new_address))
    assert state.shipping_address == new_address


def test_a_modification_without_a_reason_is_refused():
    with pytest.raises(InvalidCommand) as err:
        modify(given(placed()), priority="high", reason="  ")
    assert err.value.code == "reason_required"


def test_a_modification_naming_no_field_is_refused():
    with pytest.raises(InvalidCommand) as err:
        modify(given(placed()))
    assert err.value.code == "nothing_to_modify"


def test_modifying_an_unknown_order_is_not_found():
    with pytest.raises(NotFound) as err:
        modify(OrderState(), priority="high")
    assert err.value.code == "order_not_found"


def test_a_delivery_date_in_the_past_is_refused():
    with pytest.raises(InvalidCommand) as err:
        modify(given(placed()), scheduled_delivery=date(2020, 1, 1))
    assert err.value.code == "delivery_date_in_past"


def test_a_cancelled_order_cannot_be_modified():
    state = replace(given(placed()), cancelled=True)
    with pytest.raises(Conflict) as err:
        modify(state, priority="high")
    assert err.value.code == "order_cancelled"


def test_the_address_cannot_change_after_dispatch_but_the_priority_can():
    state = given(placed())
    state = replace(state, lines=(replace(state.lines[0], shipped=1),))
    with pytest.raises(Conflict) as err:
        modify(state, shipping_address=ADDRESS.model_copy(update={"city": "X"}))
    assert err.value.code == "order_already_dispatched"
    assert len(modify(state, priority="high")) == 1


def test_setting_gift_options_equal_to_the_current_ones_writes_nothing():
    gift = GiftOptions(wrap=True)
    state = given(placed(gift=gift))
    assert modify(state, gift=GiftOptions(wrap=True)) == []
    assert len(modify(state, gift=GiftOptions(wrap=False))) == 1


@pytest.mark.parametrize(
    "change",
    [{"priority": "high"}, {"shipping_address": ADDRESS.model_copy(update={"city": "X"})},
     {"gift": GiftOptions(wrap=True)}, {"priority": "normal"}],
)  # fmt: skip
def test_a_split_parent_is_frozen_even_for_a_change_that_would_write_nothing(change):
    # Given an order that was split into children
    children = [{"order_id": str(uuid4()), "number": 2, "location": "WH1"}]
    state = given(placed(), OrderSplit(reason="multi_warehouse", children=children))
    # When it is modified, Then it refuses as frozen
    with pytest.raises(Conflict) as err:
        modify(state, **change)
    assert err.value.code == "order_frozen"
