"""Inventory read models against real PostgreSQL: levels with totals and low-stock filter,
signed movements, and a rebuild from the store that equals the live view row for row."""

from uuid import uuid4

from psycopg import sql

from commands import sku_lookup
from commands.context import CommandContext
from domain.ids import inventory_stream
from domain.inventory.commands import (
    AdjustStock,
    CommitReservation,
    ReceiveStock,
    ReserveStock,
    SetThresholds,
    TransferStock,
)
from domain.location.commands import RegisterLocation
from projections.base import live_schema
from projections.inventory_levels import list_levels, sku_levels
from projections.inventory_movements import sku_movements
from tests.factories import send

VIEWS = ["inventory_levels", "inventory_movements"]


def known_sku(store) -> str:
    sku = f"INV-{uuid4().hex[:10]}"
    store.append([sku_lookup.claim(sku, uuid4())], CommandContext.new("t").meta())
    return sku


def new_location(store) -> str:
    code = f"WH-{uuid4().hex[:8]}"
    send(
        store,
        RegisterLocation(code=code, name="W", type="warehouse", priority=1),
        CommandContext.new("t"),
    )
    return code


def stocked(container):
    """A SKU with 10 received at A, 3 moved to B, 2 damaged at A, 4 reserved and 1 shipped at A."""
    store, ctx = container.store, CommandContext.new("clerk")
    sku, a, b = known_sku(store), new_location(store), new_location(store)
    send(store, ReceiveStock(sku=sku, location=a, quantity=10, reference="PO-1"), ctx)
    send(store, TransferStock(sku=sku, from_location=a, to_location=b, quantity=3), ctx)
    send(store, AdjustStock(sku=sku, location=a, delta=-2, reason="damage"), ctx)
    rid = uuid4()
    reserve = ReserveStock(
        sku=sku,
        reservation_id=rid,
        order_id=uuid4(),
        line_id=uuid4(),
        location=a,
        quantity=4,
        expires_at=None,
    )
    send(store, reserve, ctx)
    send(
        store, CommitReservation(sku=sku, reservation_id=rid, shipment_id=uuid4(), quantity=1), ctx
    )
    send(store, SetThresholds(sku=sku, location=b, reorder_point=3, max_stock=50), ctx)
    container.runner.catch_up(VIEWS)
    return sku, a, b


def test_levels_show_each_location_and_the_totals(container):
    sku, a, b = stocked(container)
    found = sku_levels(container.pool, sku)
    assert (found["on_hand"], found["reserved"], found["available"]) == (7, 3, 4)
    by_location = {row["location"]: row for row in found["locations"]}
    assert (by_location[a]["on_hand"], by_location[a]["reserved"]) == (4, 3)
    assert (by_location[b]["on_hand"], by_location[b]["reorder_point"]) == (3, 3)
    assert by_location[b]["low_stock"] and not by_location[a]["low_stock"]
    assert found["version"] == container.store.stream_version(inventory_stream(sku))


def test_the_low_stock_list_filters_by_location(container):
    sku, a, b = stocked(container)
    rows = list_levels(container.pool, low_stock=True, location=b, limit=500)
    assert (sku, b) in [(r["sku"], r["location"]) for r in rows]
    assert all(r["low_stock"] and r["location"] == b for r in rows)
    assert sku not in [r["sku"] for r in list_levels(container.pool, location=a, low_stock=True)]


def test_movements_are_signed_and_typed_in_store_order(container):
    sku, a, b = stocked(container)
    rows = sku_movements(container.pool, sku)
    assert [(r["location"], r["type"], r["quantity"]) for r in rows] == [
        (a, "receipt", 10),
        (a, "transfer_out", -3),
        (b, "transfer_in", 3),
        (a, "damage", -2),
        (a, "shipment", -1),
    ]
    assert rows[0]["reference"] == "PO-1" and rows[0]["actor"] == "clerk"
    second_page = sku_movements(container.pool, sku, after=(rows[1]["position"], rows[1]["seq"]))
    assert second_page == rows[2:]


def _dump(container, name: str, schema: str) -> dict[str, list]:
    view = container.runner.projections[name]
    out = {}
    with container.pool.connection() as conn:
        for table, order in view.compare_key().items():
            query = sql.SQL("SELECT * FROM {}.{} ORDER BY " + order).format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            out[table] = conn.execute(query).fetchall()
    return out


def test_a_rebuilt_view_equals_the_live_one_row_for_row(container):
    stocked(container)
    for name in VIEWS:
        container.runner.catch_up([name])
        before = _dump(container, name, live_schema(name))
        container.runner.rebuild(name)
        assert _dump(container, name, live_schema(name)) == before
