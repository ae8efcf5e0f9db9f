"""Units and revenue per product and currency, and the top products, as ``docs/analytics.md``
defines them: over the lines of the orders placed in the period (in the asked time zone),
cancelled or not, so that the products of a day add up to that day's sales."""

from __future__ import annotations

from typing import Literal

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.analytics_common import DateRange, money, table

#: The order discount's share of a line: by merchandise value, on orders not cancelled whole.
LINE_DISCOUNT = (
    "CASE WHEN o.cancelled_at IS NULL AND o.subtotal > 0 "
    "THEN o.discount * l.quantity * l.unit_price / o.subtotal ELSE 0 END"
)
RANKED_BY = {"revenue": "net_revenue", "units": "net_units"}


def _rows(pool: ConnectionPool, period: DateRange, by: str, limit: int | None) -> list[dict]:
    where, params = period.where("o.placed_at")
    grouped = sql.SQL(
        "SELECT l.sku, l.product_id, o.currency, count(DISTINCT o.order_id) AS orders, "
        "sum(l.quantity) AS units, sum(l.cancelled) AS cancelled_units, "
        "sum(l.returned) AS returned_units, "
        "sum(l.quantity - l.cancelled - l.returned) AS net_units, "
        "sum(l.quantity * l.unit_price) AS gross_revenue, "
        "sum({d}) AS discounts, sum(l.cancelled * l.unit_price) AS cancelled_amount, "
        "sum(l.returned * l.unit_price) AS returned_amount, "
        "sum((l.quantity - l.cancelled - l.returned) * l.unit_price - {d}) AS net_revenue "
        "FROM {l} l JOIN {o} o USING (order_id) "
        "WHERE NOT o.split AND {w} GROUP BY l.sku, l.product_id, o.currency"
    ).format(d=sql.SQL(LINE_DISCOUNT), l=table("line_facts"), o=table("order_facts"), w=where)
    order_by = sql.Identifier(RANKED_BY[by])
    if limit is not None:
        grouped = sql.SQL(
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY currency ORDER BY {o} "
            "DESC, sku, product_id) AS rank FROM ({r}) t) ranked WHERE rank <= %s"
        ).format(o=order_by, r=grouped)
        params = [*params, limit]
    query = sql.SQL("SELECT * FROM ({}) q ORDER BY currency, {} DESC, sku, product_id").format(
        grouped, order_by
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _out(r: dict) -> dict:
    c = r["currency"]
    return {
        "sku": r["sku"],
        "product_id": str(r["product_id"]),
        "currency": c,
        "orders": r["orders"],
        "units": int(r["units"]),
        "cancelled_units": int(r["cancelled_units"]),
        "returned_units": int(r["returned_units"]),
        "net_units": int(r["net_units"]),
        "gross_revenue": money(r["gross_revenue"], c),
        "discounts": money(r["discounts"], c),
        "cancelled_amount": money(r["cancelled_amount"], c),
        "returned_amount": money(r["returned_amount"], c),
        "net_revenue": money(r["net_revenue"], c),
        "revenue": money(r["net_revenue"], c),
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
    """The best ``limit`` products per currency by net revenue or net units."""
    return [_out(r) for r in _rows(pool, period, by, limit)]
