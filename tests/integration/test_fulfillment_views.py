"""The fulfillment and returns views and an order's children, on real PostgreSQL: given the
events of plans, shipments and returns, each row answers what folding its stream answers; the
rows are the same whatever order the streams' events arrive in, and after a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from psycopg import sql
from psycopg.rows import dict_row

from commands import fulfillment, orders, returns, shipments
from commands.context import CommandContext
from domain.fulfillment.events import (
    ItemsPacked,
    ItemsPicked,
    PlanCreated,
    PlanLine,
    PlanStatusChanged,
)
from domain.order.commands import ConfirmOrder, RequestedLine
from domain.order.fulfillment_commands import LineUnits, SplitOrder, SplitPart
from domain.order.values import LineQuantity
from domain.returns.events import (
    ReturnReceived,
    ReturnRefunded,
    ReturnRefundFailed,
    ReturnRequested,
)
from domain.returns.restock import RestockPart
from domain.shipment.events import (
    DeliveryAttemptRecorded,
    ShipmentCreated,
    ShipmentDispatched,
    ShipmentTrackingUpdated,
)
from eventstore.store import StreamAppend
from projections import fulfillment as views
from projections import returns as returns_view
from projections.base import live_schema
from projections.order_detail import children_of
from tests.factories import active_product, send
from tests.integration.test_order_commands import place
from tests.tables import differences

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def write(container, stream_id: UUID, *events) -> int:  # noqa: ANN001
    """Append ``events`` at the end of the stream; the position of the last."""
    version = container.store.stream_version(stream_id)
    meta = CommandContext.new("view-test").meta()
    return container.store.append([StreamAppend(stream_id, version, list(events))], meta)


def line(line_id: str, allocated: int) -> PlanLine:
    return PlanLine(line_id=line_id, sku=f"SKU-{line_id}", allocated=allocated,
                    reservation_id=uuid4())  # fmt: skip


@pytest.fixture(scope="module")
def streams(container):
    """An order's two plans (created location B first), two shipments (number 2 first) and a
    return, each moved along; then the views caught up."""
    order_id, plan_a, plan_b, ship_1, ship_2, return_id = (uuid4() for _ in range(6))
    kept = {"order_id": order_id, "priority": "normal", "strategy": "split_shipment"}
    write(container, plan_b, PlanCreated(location="LOC-B", lines=[line("l1", 1)], **kept))
    write(container, plan_a, PlanCreated(location="LOC-A", lines=[line("l1", 2), line("l2", 1)],
                                         **kept))  # fmt: skip
    write(
        container,
        plan_a,
        PlanStatusChanged(order_id=order_id, status="picking", previous="planned"),
        ItemsPicked(order_id=order_id, line_id="l1", picked=2),
        ItemsPacked(order_id=order_id, line_id="l1", packed=1),
        PlanStatusChanged(order_id=order_id, status="on_hold", previous="picking"),
    )
    lines = [LineQuantity(line_id="l1", quantity=1)]
    write(container, ship_2, ShipmentCreated(order_id=order_id, number=2, location="LOC-B",
          lines=lines, carrier="UPS"))  # fmt: skip
    write(container, ship_1, ShipmentCreated(order_id=order_id, number=1, location="LOC-A",
          lines=lines, carrier="USPS"))  # fmt: skip
    write(
        container,
        ship_1,
        ShipmentTrackingUpdated(order_id=order_id, shipment_id=ship_1, code="label_created",
                                status="label_created", tracking_number="TRK-1", occurred_at=NOW),
        ShipmentDispatched(order_id=order_id, location="LOC-A", lines=lines, shipped_at=NOW),
        DeliveryAttemptRecorded(order_id=order_id, shipment_id=ship_1, attempt=1,
                                outcome="customer_not_home", failure_reason="out"),
    )  # fmt: skip
    write(
        container,
        return_id,
        ReturnRequested(order_id=order_id, lines=lines, reason="too big"),
        ReturnReceived(order_id=order_id, restock=True, restock_to=[
            RestockPart(line_id="l1", location="LOC-A", quantity=1)]),
        ReturnRefundFailed(order_id=order_id, refund_id=uuid4(), amount=Decimal("9.50")),
        ReturnRefunded(order_id=order_id, refund_id=uuid4(), amount=Decimal("9.50")),
    )  # fmt: skip
    container.runner.catch_up([views.NAME, returns_view.NAME])
    return order_id, plan_a, plan_b, ship_1, ship_2, return_id


def test_a_plan_row_is_its_stream_folded_and_an_order_lists_them_by_location(container, streams):
    order_id, plan_a, plan_b, *_ = streams
    got = views.get_plan(container.pool, plan_a)
    assert got == views.plan_document(plan_a, *fulfillment.get(container.store, plan_a))
    assert (got["status"], got["version"], got["location"]) == ("on_hold", 5, "LOC-A")
    assert [(x["line_id"], x["allocated"], x["picked"], x["packed"]) for x in got["lines"]] == [
        ("l1", 2, 2, 1),
        ("l2", 1, 0, 0),
    ]
    listed = views.plans_of_order(container.pool, order_id)
    assert [p["id"] for p in listed] == [str(plan_a), str(plan_b)]
    assert listed[1] == views.plan_document(plan_b, *fulfillment.get(container.store, plan_b))
    assert views.get_plan(container.pool, uuid4()) is None
    assert views.plans_of_order(container.pool, uuid4()) == []


def test_a_shipment_row_is_its_stream_folded_and_an_order_lists_them_by_number(container, streams):
    order_id, _a, _b, ship_1, ship_2, _r = streams
    got = views.get_shipment(container.pool, ship_1)
    assert got == views.shipment_document(ship_1, *shipments.get(container.store, ship_1))
    assert (got["status"], got["tracking_number"], got["dispatched"], got["attempts"]) == (
        "in_transit",
        "TRK-1",
        True,
        1,
    )
    assert (got["carrier"], got["number"], got["version"]) == ("USPS", 1, 4)
    listed = views.shipments_of_order(container.pool, order_id)
    assert [(s["id"], s["number"]) for s in listed] == [(str(ship_1), 1), (str(ship_2), 2)]
    assert listed[1]["status"] == "pending" and listed[1]["lines"] == [
        {"line_id": "l1", "quantity": 1}
    ]
    assert views.get_shipment(container.pool, uuid4()) is None


def test_a_return_row_is_its_stream_folded(container, streams):
    *_, return_id = streams
    got = returns_view.get_return(container.pool, return_id)
    assert got == returns_view.return_document(return_id, *returns.get(container.store, return_id))
    assert (got["status"], got["refunded"], got["version"], got["restock"]) == (
        "refunded",
        "9.50",
        4,
        True,
    )
    assert got["restock_to"] == [{"line_id": "l1", "location": "LOC-A", "quantity": 1}]
    assert returns_view.get_return(container.pool, uuid4()) is None


def rows(container, schema: str, view) -> dict[str, list[tuple]]:  # noqa: ANN001
    with container.pool.connection() as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT * FROM {}.{} ORDER BY {}").format(
                    sql.Identifier(schema), sql.Identifier(table), sql.SQL(order)
                )
            ).fetchall()
            for table, order in view.compare_key().items()
        }


def build(container, view, schema: str, batches) -> dict[str, list[tuple]]:  # noqa: ANN001
    """``view`` built in a scratch schema from ``batches`` of events, one transaction each."""
    with container.pool.connection() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(view.ddl.replace("{schema}", schema))
        conn.commit()
        for batch in batches:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                view.apply(cur, schema, batch)
    try:
        return rows(container, schema, view)
    finally:
        with container.pool.connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.parametrize(
    "view", [views.FulfillmentView(), returns_view.ReturnsView()], ids=lambda v: v.name
)
def test_the_rows_do_not_depend_on_the_order_of_other_streams_events(container, streams, view):
    per_stream = [container.store.load_with_positions(s) for s in streams[1:]]
    in_order = sorted((e for events in per_stream for e in events), key=lambda e: e.position)
    # Given the same events, once in log order in one batch, once stream after stream in
    # reverse, one event per batch, and once with every event delivered twice
    reverse = [[e] for events in reversed(per_stream) for e in events]
    twice = [[e, e] for e in in_order]
    expected = build(container, view, "rm_test_in_order", [in_order])
    assert any(expected.values())
    # Then every build has the same rows
    for name, batches in (("reverse", reverse), ("twice", twice)):
        got = build(container, view, f"rm_test_{name}", batches)
        for table in expected:
            problem = differences(got[table], expected[table])
            assert problem is None, f"{view.name}.{table} ({name}): {problem}"


@pytest.mark.parametrize("name", [views.NAME, returns_view.NAME])
def test_a_rebuilt_view_equals_the_live_one(container, streams, name):
    view = container.runner.projections[name]
    container.runner.catch_up([name])
    live = rows(container, live_schema(name), view)
    container.runner.rebuild(name)
    rebuilt = rows(container, live_schema(name), view)
    for table in live:
        assert differences(rebuilt[table], live[table]) is None, table


def test_the_children_of_a_split_order_come_from_the_order_documents(container):
    sku_a, sku_b = active_product(container)[1], active_product(container)[1]
    order_id = place(
        container, [RequestedLine(sku=sku_a, quantity=2), RequestedLine(sku=sku_b, quantity=1)]
    ).stream_id
    l1, l2 = (x.line_id for x in orders.get(container.store, order_id).lines)
    ctx = CommandContext.new("view-test")
    allocations = [
        {"line_id": l1, "sku": sku_a, "location": "LOC-A", "quantity": 2,
         "reservation_id": str(uuid4())},
        {"line_id": l2, "sku": sku_b, "location": "LOC-B", "quantity": 1,
         "reservation_id": str(uuid4())},
    ]  # fmt: skip
    send(container, ConfirmOrder(order_id=order_id, allocations=allocations), ctx)
    container.runner.catch_up(["order_detail"])
    assert children_of(container.pool, order_id) == []
    split = SplitOrder(
        order_id=order_id,
        reason="multi_warehouse",
        parts=[
            SplitPart(location="LOC-B", lines=[LineUnits(line_id=l2, quantity=1)]),
            SplitPart(location="LOC-A", lines=[LineUnits(line_id=l1, quantity=2)]),
        ],
    )
    result = send(container, split, ctx)
    container.runner.catch_up(["order_detail"])
    got = children_of(container.pool, order_id)
    assert [c["id"] for c in got] == [c["id"] for c in result.extra["children"]]
    expected = []
    for child in result.extra["children"]:
        state = orders.get(container.store, UUID(child["id"]))
        expected.append({
            "id": child["id"], "number": state.number, "location": state.split_location,
            "status": state.status,
            "lines": [{"line_id": x.line_id, "sku": x.sku, "quantity": x.quantity}
                      for x in state.lines],
        })  # fmt: skip
    assert got == expected
    assert [(c["location"], c["lines"][0]["quantity"]) for c in got] == [("LOC-B", 1), ("LOC-A", 2)]
    assert children_of(container.pool, uuid4()) is None
