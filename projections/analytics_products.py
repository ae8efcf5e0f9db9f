"""Units and revenue per product, and the top products, per currency. Units are the ordered
units less cancelled ones, of orders placed in the period and not cancelled as a whole;
revenue is those units at the line's unit price."""

from __future__ import annotations

from typing import Literal

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.analytics_common import DateRange, money, table


def _rows(pool: ConnectionPool, period: DateRange, order_by: str, limit: int | None) -> list:
    where, params = period.where("o.day")
    ranked = sql.SQL(
        "SELECT l.sku, l.product_id, o.currency, sum(l.quantity - l.cancelled) AS units, "
        "sum((l.quantity - l.cancelled) * l.unit_price) AS revenue, "
        "count(DISTINCT o.order_id) AS orders "
        "FROM {l} l JOIN {o} o USING (order_id) "
        "WHERE o.cancelled_at IS NULL AND {w} GROUP BY l.sku, l.product_id, o.currency"
    ).format(l=table("line_facts"), o=table("order_facts"), w=where)
    if limit is not None:
        ranked = sql.SQL(
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY currency ORDER BY {o} "
            "DESC, sku) AS rank FROM ({r}) t) ranked WHERE rank <= %s"
        ).format(o=sql.SQL(order_by), r=ranked)
        params = [*params, limit]
    query = sql.SQL("SELECT * FROM ({}) q ORDER BY currency, {} DESC, sku").format(
        ranked, sql.SQL(order_by)
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _out(r: dict) -> dict:
    return {
        "sku": r["sku"],
        "product_id": str(r["product_id"]),
        "currency": r["currency"],
        "units": int(r["units"]),
        "revenue": money(r["revenue"], r["currency"]),
        "orders": r["orders"],
        **({"rank": r["rank"]} if "rank" in r else {}),
    }


def product_sales(pool: ConnectionPool, period: DateRange) -> list[dict]:
    return [_out(r) for r in _rows(pool, period, "revenue", None)]


def top_products(
    pool: ConnectionPool,
    period: DateRange,
    *,
    by: Literal["revenue", "units"] = "revenue",
    limit: int = 10,
) -> list[dict]:
    """The best ``limit`` products per currency by revenue or units."""
    return [_out(r) for r in _rows(pool, period, by, limit)]
