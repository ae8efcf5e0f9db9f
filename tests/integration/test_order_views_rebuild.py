"""The order read models rebuilt from the store equal the live ones, row for row."""

from __future__ import annotations

from uuid import UUID

import pytest
from psycopg import sql

from commands.context import CommandContext
from domain.order.commands import (
    AddNote,
    AddTag,
    DeleteNote,
    EditNote,
    ModifyOrder,
    RemoveTag,
    RequestedLine,
)
from projections.base import live_schema
from projections.order_views import VIEWS
from tests.factories import active_product, send
from tests.integration.test_order_commands import place
from tests.tables import differences


def snapshot(container, view) -> dict[str, list[tuple]]:
    out = {}
    with container.pool.connection() as conn:
        for table, order_by in view.compare_key().items():
            out[table] = conn.execute(
                sql.SQL("SELECT * FROM {}.{} ORDER BY {}").format(
                    sql.Identifier(live_schema(view.name)),
                    sql.Identifier(table),
                    sql.SQL(order_by),
                )
            ).fetchall()
    return out


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_a_rebuilt_order_view_equals_the_live_one(container, view):
    sku = active_product(container)[1]
    store, ctx = container.store, CommandContext.new("rebuilder")
    for i in range(3):
        order_id = place(container, [RequestedLine(sku=sku, quantity=i + 1)]).stream_id
        send(store, ModifyOrder(order_id=order_id, reason="r", priority="high"), ctx)
        note_id = UUID(send(store, AddNote(order_id=order_id, text="n"), ctx).extra["note_id"])
        send(store, EditNote(order_id=order_id, note_id=note_id, visible_to_customer=True), ctx)
        send(store, AddTag(order_id=order_id, tag=f"T{i}"), ctx)
        if i == 2:
            send(store, DeleteNote(order_id=order_id, note_id=note_id), ctx)
            send(store, RemoveTag(order_id=order_id, tag=f"t{i}"), ctx)
    container.runner.catch_up([view.name])
    live = snapshot(container, view)
    container.runner.rebuild(view.name)
    rebuilt = snapshot(container, view)
    for table in live:
        problem = differences(rebuilt[table], live[table])
        assert problem is None, f"{view.name}.{table}: {problem}"
