"""Low stock and reorder suggestions, read from the inventory levels view
(``docs/analytics.md``, Reorder suggestions).

A row is low when its available quantity is at or below its reorder point (out of stock counts
as low). The suggested quantity is the configured ``reorder_quantity`` when the thresholds set
one, else ``max(2 x reorder point, max stock - on hand)``.
"""

from __future__ import annotations

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.base import live_schema

LEVELS = "inventory_levels"


def reorder_quantity(
    reorder_point: int, max_stock: int | None, on_hand: int, configured: int | None = None
) -> int:
    if configured is not None:
        return configured
    return max(2 * reorder_point, (max_stock if max_stock is not None else 0) - on_hand)


def reorder_suggestions(
    pool: ConnectionPool, *, location: str | None = None, limit: int = 500
) -> list[dict]:
    where = "available <= coalesce(reorder_point, 0)"
    params: list = []
    if location is not None:
        where += " AND location = %s"
        params.append(location)
    query = sql.SQL(
        "SELECT sku, location, on_hand, reserved, available, coalesce(reorder_point, 0) AS "
        "reorder_point, reorder_quantity, max_stock FROM {}.levels WHERE {} ORDER BY "
        "available - coalesce(reorder_point, 0), sku, location LIMIT %s"
    ).format(sql.Identifier(live_schema(LEVELS)), sql.SQL(where))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, [*params, limit]).fetchall()
    return [
        {
            **r,
            "low_stock": True,
            "suggested_reorder_quantity": reorder_quantity(
                r["reorder_point"], r["max_stock"], r["on_hand"], r["reorder_quantity"]
            ),
        }
        for r in rows
    ]
