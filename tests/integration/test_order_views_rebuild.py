"""The order read models rebuilt from the store equal the live ones, row for row."""

from __future__ import annotations

from uuid import uuid4

import pytest
from psycopg import sql

from commands import orders
from commands.context import CommandContext
from domain.order.values import RequestedLine
from projections.base import live_schema
from projections.order_views import VIEWS
from tests.factories import active_product
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
        order_id = place(container, [RequestedLine(sku, i + 1)]).stream_id
        orders.modify(store, ctx, order_id, reason="r", priority="high")
        note_id = uuid4()
        orders.add_note(store, ctx, order_id, note_id=note_id, text="n")
        orders.edit_note(store, ctx, order_id, note_id=note_id, visible_to_customer=True)
        orders.add_tag(store, ctx, order_id, tag=f"T{i}")
        if i == 2:
            orders.delete_note(store, ctx, order_id, note_id=note_id)
            orders.remove_tag(store, ctx, order_id, tag=f"t{i}")
    container.runner.catch_up([view.name])
    live = snapshot(container, view)
    container.runner.rebuild(view.name)
    rebuilt = snapshot(container, view)
    for table in live:
        problem = differences(rebuilt[table], live[table])
        assert problem is None, f"{view.name}.{table}: {problem}"
