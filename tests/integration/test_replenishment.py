"""The replenishment manager against real PostgreSQL: fifty concurrent orders pulling a SKU
below its reorder point draft exactly one purchase order, from the cheapest of the quickest
suppliers, in whole packs; receiving it closes the suggestion and the next crossing opens a new
one; two crossings decided at once still draft one; the suggestions view equals a rebuild."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier
from uuid import UUID, uuid4

import pytest

from commands import purchase_orders
from commands.executor import load
from commands.process_manager import Trigger
from domain.inventory.commands import AdjustStock, ReceiveStock, SetThresholds
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.supply import replenishment as r
from domain.supply.commands import (
    ApprovePurchaseOrder,
    CancelPurchaseOrder,
    LineIn,
    ReceivePurchaseOrder,
)
from projections import replenishment as view
from projections.base import live_schema
from tests.factories import send
from tests.integration.test_projection_rebuild import snapshot
from tests.supply_factories import ctx, item, location, skus, supplier
from tests.tables import differences

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


@dataclass
class Shelf:
    sku: str
    code: str
    cheapest_quick: UUID


def _shelf(container, on_hand: int, reorder_point: int, reorder_quantity: int) -> Shelf:  # noqa: ANN001
    code = location(container)
    (sku,) = skus(container, 1)
    supplier(container, [item(sku, cost="2.00", pack=12, minimum=24)], lead_time_days=3)
    quick = supplier(container, [item(sku, cost="1.50", pack=10, minimum=10)], lead_time_days=3)
    supplier(container, [item(sku, cost="0.50")], lead_time_days=9)
    send(container, ReceiveStock(sku=sku, location=code, quantity=on_hand), ctx())
    limits = SetThresholds(
        sku=sku, location=code, reorder_point=reorder_point, reorder_quantity=reorder_quantity
    )
    send(container, limits, ctx())
    return Shelf(sku, code, quick)


def _suggestions(container, shelf: Shelf) -> list:  # noqa: ANN001
    stream = r.replenishment_stream(shelf.sku, shelf.code)
    return [e for e in container.store.load(stream) if e.name == "ReorderSuggested"]


def _take(container, shelf: Shelf, units: int) -> None:  # noqa: ANN001
    adjust = AdjustStock(sku=shelf.sku, location=shelf.code, delta=-units, reason="damage")
    send(container, adjust, ctx())


def test_fifty_concurrent_orders_below_the_reorder_point_draft_one_order(container):
    container.processes.catch_up()
    shelf = _shelf(container, on_hand=60, reorder_point=20, reorder_quantity=25)
    start = Barrier(50)

    def place(_: int) -> None:
        order = PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=shelf.sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        )
        start.wait()
        send(container, order, ctx())

    with ThreadPoolExecutor(max_workers=50) as threads:
        list(threads.map(place, range(50)))
    container.processes.catch_up()

    (suggested,) = _suggestions(container, shelf)
    order_id = UUID(suggested.data["purchase_order_id"])
    assert UUID(suggested.data["supplier_id"]) == shelf.cheapest_quick
    assert suggested.data["quantity"] == 30  # 25 in whole packs of 10
    state = purchase_orders.get(container.dispatcher.write, order_id)
    assert state.status == "pending" and state.location == shelf.code
    assert state.lines == {shelf.sku: (30, 0)}

    # received: the suggestion closes; the next crossing opens a new one with a new order
    send(container, ApprovePurchaseOrder(purchase_order_id=order_id), ctx())
    receipt = ReceivePurchaseOrder(
        purchase_order_id=order_id, lines=[LineIn(sku=shelf.sku, quantity=30)]
    )
    send(container, receipt, ctx())
    container.processes.catch_up()
    stream = r.replenishment_stream(shelf.sku, shelf.code)
    assert load(container.store, r.REPLENISHMENT, stream).state.open_suggestion is None

    _take(container, shelf, 25)  # 40 available → 15
    container.processes.catch_up()
    first, second = _suggestions(container, shelf)
    assert first.data["purchase_order_id"] != second.data["purchase_order_id"]
    container.runner.catch_up([view.NAME])
    rows, _ = view.list_suggestions(container.pool, sku=shelf.sku)
    assert [(row["status"], row["close_reason"]) for row in rows] in (
        [("closed", "received"), ("open", None)],
        [("open", None), ("closed", "received")],
    )


def test_a_cancelled_order_closes_its_suggestion(container):
    container.processes.catch_up()
    shelf = _shelf(container, on_hand=10, reorder_point=5, reorder_quantity=7)
    _take(container, shelf, 6)
    container.processes.catch_up()
    (suggested,) = _suggestions(container, shelf)
    order_id = UUID(suggested.data["purchase_order_id"])
    send(container, CancelPurchaseOrder(purchase_order_id=order_id), ctx())
    container.processes.catch_up()

    stream = r.replenishment_stream(shelf.sku, shelf.code)
    assert load(container.store, r.REPLENISHMENT, stream).state.open_suggestion is None
    assert [e.name for e in container.store.load(stream)][-1] == "ReorderSuggestionClosed"


def test_two_crossings_decided_at_once_draft_one_order(container):
    container.processes.catch_up()
    shelf = _shelf(container, on_hand=10, reorder_point=5, reorder_quantity=10)
    _take(container, shelf, 6)  # low stock
    _take(container, shelf, 4)  # out of stock: a second alert for the same shelf
    alerts = [
        e
        for e in container.store.read_all(after=0, limit=100_000)
        if e.type == "inventory.StockAlertRaised" and e.data["sku"] == shelf.sku
    ]
    assert len(alerts) == 2
    manager = container.processes.managers["replenishment"]
    start = Barrier(2)

    def handle(event) -> None:  # noqa: ANN001
        start.wait()
        manager.handle(Trigger(manager.name, event))

    with ThreadPoolExecutor(max_workers=2) as threads:
        list(threads.map(handle, alerts))

    assert len(_suggestions(container, shelf)) == 1


def test_the_suggestions_view_equals_a_rebuild(container):
    container.processes.catch_up()
    container.runner.catch_up([view.NAME])
    before = snapshot(container.pool, live_schema(view.NAME))
    container.runner.rebuild(view.NAME)
    after = snapshot(container.pool, live_schema(view.NAME))
    assert before["suggestions"], "the tests above left suggestions"
    assert differences(after["suggestions"], before["suggestions"]) is None


@pytest.mark.parametrize(
    "reorder_quantity, pack, minimum, expected", [(25, 10, 10, 30), (3, 12, 24, 24)]
)
def test_quantities_are_whole_packs_and_at_least_the_minimum(
    reorder_quantity, pack, minimum, expected
):
    assert r.in_packs(reorder_quantity, pack, minimum) == expected
