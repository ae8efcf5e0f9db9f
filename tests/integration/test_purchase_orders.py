"""Purchase orders against real PostgreSQL: a receipt puts its units on the shelf in the same
transaction, concurrent receipts never take a line beyond what was ordered, and the supply
views equal a rebuild of themselves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from commands import inventory
from domain.errors import Conflict, InvalidCommand
from domain.ids import inventory_stream
from domain.supply.commands import CancelPurchaseOrder, LineIn, ReceivePurchaseOrder
from projections import purchase_orders as orders_view
from projections import suppliers as suppliers_view
from projections.base import live_schema
from tests.factories import send
from tests.integration.test_projection_rebuild import snapshot
from tests.supply_factories import ctx, item, location, purchase_order, skus, supplier
from tests.tables import differences


@pytest.fixture(scope="module")
def world(container):  # noqa: ANN001, ANN201
    code = location(container)
    a, b = skus(container, 2)
    supplier_id = supplier(container, [item(a, pack=5, minimum=10), item(b, cost="1.00")])
    return container, code, a, b, supplier_id


def _receive(container, order_id, lines: dict[str, int]):  # noqa: ANN001, ANN202
    receipt = ReceivePurchaseOrder(
        purchase_order_id=order_id, lines=[LineIn(sku=s, quantity=q) for s, q in lines.items()]
    )
    return send(container, receipt, ctx())


def test_a_receipt_records_stock_received_at_the_orders_location_in_one_transaction(world):
    container, code, a, b, supplier_id = world
    order_id = purchase_order(container, supplier_id, code, {a: 20, b: 3}, status="ordered")

    done = _receive(container, order_id, {a: 15})

    assert done.extra["status"] == "ordered"
    received = [e for e in container.store.load(inventory_stream(a)) if e.name == "StockReceived"][
        -1
    ]
    assert received.data["location"] == code and received.data["quantity"] == 15
    assert received.data["reference"] == f"purchase-order:{order_id}"
    receipt = container.store.load(order_id)[-1]
    assert receipt.name == "PurchaseOrderReceived"
    assert received.meta.correlation_id == receipt.meta.correlation_id
    store = container.store
    assert store.position_of(inventory_stream(a), received.version) == done.position - 1
    assert store.position_of(order_id, receipt.version) == done.position
    assert inventory.get(container.store, a).level(code).on_hand == 15

    finished = _receive(container, order_id, {a: 5, b: 3})
    assert finished.extra["status"] == "received"


def test_an_over_receipt_writes_nothing_in_either_stream(world):
    container, code, a, _b, supplier_id = world
    order_id = purchase_order(container, supplier_id, code, {a: 10}, status="in_transit")
    before = container.store.stream_version(inventory_stream(a))

    with pytest.raises(InvalidCommand) as refused:
        _receive(container, order_id, {a: 11})

    assert refused.value.code == "over_receipt"
    assert container.store.stream_version(inventory_stream(a)) == before
    assert [e.name for e in container.store.load(order_id)][-1] == "PurchaseOrderDispatched"


def test_a_cancelled_order_receives_nothing(world):
    container, code, a, _b, supplier_id = world
    order_id = purchase_order(container, supplier_id, code, {a: 10}, status="ordered")
    send(container, CancelPurchaseOrder(purchase_order_id=order_id), ctx())

    with pytest.raises(Conflict) as refused:
        _receive(container, order_id, {a: 1})

    assert refused.value.code == "purchase_order_cancelled"


def test_twenty_concurrent_receipts_never_take_a_line_beyond_what_was_ordered(world):
    container, code, _a, b, supplier_id = world
    order_id = purchase_order(container, supplier_id, code, {b: 12}, status="ordered")
    on_hand = inventory.get(container.store, b).level(code).on_hand
    start = Barrier(20)

    def receive_one(_: int) -> str:
        start.wait()
        try:
            _receive(container, order_id, {b: 1})
            return "received"
        except InvalidCommand as refused:
            return refused.code

    with ThreadPoolExecutor(max_workers=20) as threads:
        outcomes = list(threads.map(receive_one, range(20)))

    assert outcomes.count("received") == 12 and outcomes.count("over_receipt") == 8
    assert inventory.get(container.store, b).level(code).on_hand == on_hand + 12
    receipts = [e for e in container.store.load(order_id) if e.name == "PurchaseOrderReceived"]
    assert len(receipts) == 12 and receipts[-1].data["complete"]


def test_the_views_answer_what_happened_and_equal_a_rebuild(world):
    container, code, a, b, supplier_id = world
    order_id = purchase_order(container, supplier_id, code, {a: 10, b: 2}, status="ordered")
    _receive(container, order_id, {a: 5})
    runner = container.runner
    runner.catch_up([orders_view.NAME, suppliers_view.NAME])

    found = orders_view.get_purchase_order(container.pool, order_id)
    assert found["status"] == "ordered" and found["location"] == code
    lines = {line["sku"]: (line["ordered"], line["received"]) for line in found["lines"]}
    assert lines == {a: (10, 5), b: (2, 0)}
    listed = suppliers_view.get_supplier(container.pool, supplier_id)
    assert {i["sku"]: i["pack_size"] for i in listed["items"]} == {a: 5, b: 1}
    assert listed["items"][0]["cost"]["currency"] == "USD"

    for name in (orders_view.NAME, suppliers_view.NAME):
        before = snapshot(container.pool, live_schema(name))
        runner.rebuild(name)
        after = snapshot(container.pool, live_schema(name))
        for table in before:
            assert differences(after[table], before[table]) is None, (name, table)
