"""Line edits against PostgreSQL: the request writes only its intent (one event on the order,
no stock, no payment, no gateway call); the line edit manager then applies it (reservation,
adjusted authorization, revised lines and plans) or rejects it with its reason, releasing what
it reserved."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from commands import inventory, orders, payments
from commands.context import CommandContext
from commands.line_edit_manager import LineEditManager, reservation_id
from commands.payment_gateway import GatewayAnswer
from commands.payments import RetryPolicy
from commands.process_manager import Trigger
from domain.errors import Conflict
from domain.ids import payment_stream, plan_stream
from domain.order.fulfillment_commands import (
    LineUnits,
    RequestCancellation,
    ReviewCancellation,
)
from domain.order.line_edit_commands import AddLine, ChangeLine, RemoveLine
from domain.shipment.commands import OpenShipment, RecordTracking
from tests.factories import send, write_of
from tests.integration.test_process_manager_crash_safety import (
    _db_now,
    _gateway_since,
    _location,
    _parked,
    _place,
    _stocked_sku,
)


def _confirmed(container, location: str, quantity: int = 2, stock: int = 10):  # noqa: ANN001
    sku = _stocked_sku(container, location, stock)
    order_id = _place(container, sku, quantity)
    container.processes.catch_up()
    assert orders.get(container.store, order_id).status == "confirmed"
    return order_id, sku


def _names_after(store, position: int) -> list[tuple[UUID, str]]:  # noqa: ANN001
    return [(e.stream_id, e.name) for e in store.read_all(after=position, limit=1000)]


def _edit(container, order_id: UUID) -> dict:  # noqa: ANN001
    state = orders.get(container.store, order_id)
    return {"pending": state.pending_edit, "applied": state.applied_edits}


def test_a_request_writes_only_its_intent_and_the_manager_applies_it(container):
    store = container.store
    location = _location(container)
    order_id, sku = _confirmed(container, location)
    extra = _stocked_sku(container, location, 5)
    head, t0 = store.head(), _db_now(container)

    asked = send(
        container,
        AddLine(order_id=order_id, sku=extra, quantity=3, reason="asked"),
        CommandContext.new("agent"),
    )
    assert asked.extra["status"] == "pending"
    assert _names_after(store, head) == [(order_id, "LineEditRequested")]
    assert _gateway_since(container, t0) == Counter()
    state = orders.get(store, order_id)
    assert state.edit_status(UUID(asked.extra["edit_id"])) == "pending"
    assert [ln.sku for ln in state.lines] == [sku]  # nothing applied yet

    container.processes.catch_up()
    edit_id = UUID(asked.extra["edit_id"])
    state = orders.get(store, order_id)
    assert state.edit_status(edit_id) == "applied"
    assert [(ln.sku, ln.quantity, ln.reserved) for ln in state.lines] == [
        (sku, 2, 2),
        (extra, 3, 3),
    ]
    assert state.total.amount == Decimal("60.00")  # 50, 10 % tax, 5 shipping
    assert payments.get(store, order_id).authorized == state.total.amount
    line_id = asked.extra["line_id"]
    rid = reservation_id(order_id, edit_id, line_id, location)
    assert inventory.get(store, extra).reservations[rid].status == "active"
    plan = [e.name for e in store.load(plan_stream(order_id, location))]
    assert plan[-1] == "PlanRevised", plan
    assert _gateway_since(container, t0) == Counter({"authorize": 1})


def test_a_second_edit_while_one_is_pending_is_refused(container):
    location = _location(container)
    order_id, _sku = _confirmed(container, location)
    line_id = orders.get(container.store, order_id).lines[0].line_id
    send(
        container,
        ChangeLine(order_id=order_id, line_id=line_id, quantity=3, reason="more"),
        CommandContext.new("agent"),
    )
    with pytest.raises(Conflict) as refused:
        send(
            container,
            ChangeLine(order_id=order_id, line_id=line_id, quantity=1, reason="fewer"),
            CommandContext.new("agent"),
        )
    assert refused.value.code == "edit_in_progress"
    container.processes.catch_up()
    assert orders.get(container.store, order_id).lines[0].quantity == 3


def test_an_edit_without_the_stock_is_rejected_and_holds_nothing(container):
    store = container.store
    location = _location(container)
    order_id, sku = _confirmed(container, location, quantity=2, stock=3)
    line_id = orders.get(store, order_id).lines[0].line_id
    before = orders.get(store, order_id)
    asked = send(
        container,
        ChangeLine(order_id=order_id, line_id=line_id, quantity=9, reason="more"),
        CommandContext.new("agent"),
    )
    container.processes.catch_up()
    state = orders.get(store, order_id)
    assert state.edit_status(UUID(asked.extra["edit_id"])) is None
    [rejected] = [e for e in store.load(order_id) if e.name == "LineEditRejected"]
    assert rejected.data["reason"] == "insufficient_stock"
    assert state.lines == before.lines and state.total == before.total
    assert inventory.get(store, sku).totals()["reserved"] == 2
    assert [e.name for e in store.load(payment_stream(order_id))] == ["PaymentAuthorized"]


class DecliningGateway:
    """The sandbox, except that it declines every authorization (a card that stopped
    working after the order was placed)."""

    def __init__(self, inner):  # noqa: ANN001
        self.inner, self.name = inner, inner.name

    def authorize(self, key, token, amount, currency, timeout_s):  # noqa: ANN001, ANN201
        return GatewayAnswer("declined", "sbx_declined", "card_declined")

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)


def test_a_declined_new_total_releases_what_the_edit_reserved_and_is_rejected(container):
    store = container.store
    location = _location(container)
    order_id, sku = _confirmed(container, location)
    line_id = orders.get(store, order_id).lines[0].line_id
    head = store.head()
    asked = send(
        container,
        ChangeLine(order_id=order_id, line_id=line_id, quantity=4, reason="more"),
        CommandContext.new("agent"),
    )
    [requested] = [e for e in store.read_all(after=head, limit=10) if e.stream_id == order_id]
    write = replace(write_of(container), gateway=DecliningGateway(container.gateway))
    manager = LineEditManager(write, retry=RetryPolicy())
    manager.handle(Trigger("line_edits", requested))
    edit_id = UUID(asked.extra["edit_id"])
    rid = reservation_id(order_id, edit_id, line_id, location)
    assert inventory.get(store, sku).reservations[rid].status == "released"
    assert inventory.get(store, sku).totals()["reserved"] == 2
    [rejected] = [e for e in store.load(order_id) if e.name == "LineEditRejected"]
    assert rejected.data["reason"] == "payment_declined"
    assert "card_declined" in rejected.data["message"]
    assert orders.get(store, order_id).lines[0].quantity == 2
    assert payments.get(store, order_id).authorized == orders.get(store, order_id).total.amount
    # the runner, coming to the same event, finds it decided and writes nothing
    head = store.head()
    manager.handle(Trigger("line_edits", requested))
    container.processes.catch_up()
    assert [e for e in store.read_all(after=head, limit=10) if e.stream_id == order_id] == []


def test_removing_a_line_releases_it_and_lowers_the_authorization(container):
    store = container.store
    location = _location(container)
    order_id, sku = _confirmed(container, location)
    extra = _stocked_sku(container, location, 5)
    send(
        container,
        AddLine(order_id=order_id, sku=extra, quantity=1, reason="asked"),
        CommandContext.new("agent"),
    )
    container.processes.catch_up()
    added = orders.get(store, order_id).lines[1].line_id
    send(container, RemoveLine(order_id=order_id, line_id=added), CommandContext.new("agent"))
    container.processes.catch_up()
    state = orders.get(store, order_id)
    assert [ln.sku for ln in state.lines] == [sku] and state.pending_edit is None
    assert inventory.get(store, extra).totals()["reserved"] == 0
    assert payments.get(store, order_id).authorized == state.total.amount == Decimal("27.00")


def _ship(container, order_id: UUID, location: str, line_id: str, quantity: int) -> None:  # noqa: ANN001
    """One shipment of ``quantity`` units of the line, picked up and delivered, each event
    carried out by the managers before the next."""
    opened = send(
        container,
        OpenShipment(
            order_id=order_id,
            location=location,
            lines=[LineUnits(line_id=line_id, quantity=quantity)],
            carrier="UPS",
        ),
        CommandContext.new("picker"),
    )
    shipment_id = UUID(opened.extra["id"])
    for status in ("picked_up", "delivered"):
        send(
            container,
            RecordTracking(shipment_id=shipment_id, status=status),
            CommandContext.new("carrier"),
        )
        container.processes.catch_up()


def _grown(container, location: str) -> tuple[UUID, str, str]:  # noqa: ANN001
    """A confirmed order whose line of 2 grew to 5 by an edit: two reservations (2 and 3) at
    one location."""
    store = container.store
    order_id, sku = _confirmed(container, location, quantity=2, stock=10)
    line_id = orders.get(store, order_id).lines[0].line_id
    send(
        container,
        ChangeLine(order_id=order_id, line_id=line_id, quantity=5, reason="more"),
        CommandContext.new("agent"),
    )
    container.processes.catch_up()
    state = orders.get(store, order_id)
    assert [(a["location"], a["quantity"]) for a in state.allocations] == [
        (location, 2),
        (location, 3),
    ]
    return order_id, sku, line_id


@pytest.mark.parametrize("parts", [(5,), (1, 4), (3, 2)])
def test_a_grown_line_ships_from_both_its_reservations(container, parts):
    """A line grown by an edit holds two reservations at its location; its shipments commit
    from the first, then the second, whatever their sizes, and every unit leaves once."""
    store = container.store
    location = _location(container)
    order_id, sku, line_id = _grown(container, location)
    parked = _parked(container)

    for quantity in parts:
        _ship(container, order_id, location, line_id, quantity)

    assert _parked(container) == parked
    state = orders.get(store, order_id)
    assert state.status == "delivered"
    assert [(ln.quantity, ln.shipped) for ln in state.lines] == [(5, 5)]
    stock = inventory.get(store, sku)
    assert stock.totals() == {"on_hand": 5, "reserved": 0, "available": 5}
    held = [stock.reservations[UUID(str(a["reservation_id"]))] for a in state.allocations]
    assert [(r.status, r.remaining) for r in held] == [("committed", 0), ("committed", 0)]
    commits = [c for r in held for c in stock.commits.get(r.id, ())]
    assert sum(units for _s, units in commits) == 5
    assert len({sid for sid, _u in commits}) == len(parts)
    assert payments.get(store, order_id).captured == state.total.amount


def test_cancelling_a_grown_line_after_part_shipped_releases_what_both_still_hold(container):
    store = container.store
    location = _location(container)
    order_id, sku, line_id = _grown(container, location)
    _ship(container, order_id, location, line_id, 3)  # 2 from the first, 1 from the second
    requested = send(
        container, RequestCancellation(order_id=order_id, reason="other"), CommandContext.new("c")
    )
    approve = ReviewCancellation(request_id=UUID(requested.extra["id"]), approve=True)
    send(container, approve, CommandContext.new("manager"))
    container.processes.catch_up()

    state = orders.get(store, order_id)
    assert state.cancellation.status == "completed"
    assert [ln.shipped for ln in state.lines] == [3]
    stock = inventory.get(store, sku)
    assert stock.totals() == {"on_hand": 7, "reserved": 0, "available": 7}
    held = [stock.reservations[UUID(str(a["reservation_id"]))] for a in state.allocations]
    assert [(r.status, r.remaining) for r in held] == [("committed", 0), ("released", 0)]


class BrokenGateway(DecliningGateway):
    """Fails every authorization with an error no retry cures (a bug, say)."""

    def authorize(self, key, token, amount, currency, timeout_s):  # noqa: ANN001, ANN201
        raise RuntimeError("the gateway client is broken")


def test_an_edit_whose_step_keeps_failing_is_parked_rejected_and_holds_nothing(container):
    store = container.store
    location = _location(container)
    order_id, sku = _confirmed(container, location)
    line_id = orders.get(store, order_id).lines[0].line_id
    head = store.head()
    asked = send(
        container,
        ChangeLine(order_id=order_id, line_id=line_id, quantity=5, reason="more"),
        CommandContext.new("agent"),
    )
    [requested] = [e for e in store.read_all(after=head, limit=10) if e.stream_id == order_id]
    manager = LineEditManager(
        replace(write_of(container), gateway=BrokenGateway(container.gateway))
    )
    trigger = Trigger("line_edits", requested)
    with pytest.raises(RuntimeError):
        manager.handle(trigger)  # reserved, then failed asking the gateway
    assert inventory.get(store, sku).totals()["reserved"] == 5
    manager.on_parked(trigger, "RuntimeError: the gateway client is broken")
    assert inventory.get(store, sku).totals()["reserved"] == 2
    state = orders.get(store, order_id)
    assert state.edit_status(UUID(asked.extra["edit_id"])) is None
    [rejected] = [e for e in store.load(order_id) if e.name == "LineEditRejected"]
    assert rejected.data["reason"] == "processing_failed"
    assert state.lines[0].quantity == 2
