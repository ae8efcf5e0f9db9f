"""Sales by day, channel and currency, the average order value and the orders per status, as
``docs/analytics.md`` defines them. An order counts on its placement day (in the asked time
zone); its cancellations, returns, captures and refunds count with it."""

from __future__ import annotations

from decimal import Decimal

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.order.status import STATUSES
from projections.analytics_common import ORDER_LINES, DateRange, money, table


def sales_by_day(pool: ConnectionPool, period: DateRange) -> list[dict]:
    where, params = period.where("o.placed_at")
    day = period.day("o.placed_at")
    query = sql.SQL(
        "SELECT {day} AS day, channel, currency, count(*) AS orders, "
        "count(*) FILTER (WHERE cancelled_at IS NOT NULL) AS cancelled_orders, "
        "sum(units) AS units, sum(cancelled_units) AS cancelled_units, "
        "sum(returned_units) AS returned_units, sum(total) AS gross, "
        "coalesce(sum(total) FILTER (WHERE cancelled_at IS NULL), 0) AS net_sales, "
        "sum(m.gross_revenue) AS gross_revenue, "
        "coalesce(sum(discount) FILTER (WHERE cancelled_at IS NULL), 0) AS discounts, "
        "sum(m.cancelled_amount) AS cancelled_amount, sum(m.returned_amount) AS returned_amount, "
        "sum(captured) AS captured, sum(refunded) AS refunded "
        "FROM {facts} o {lines} WHERE NOT o.split AND {where} "
        "GROUP BY 1, channel, currency ORDER BY 1, channel, currency"
    ).format(
        day=day,
        facts=table("order_facts"),
        lines=ORDER_LINES.format(table("line_facts")),
        where=where,
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    out = []
    for r in rows:
        c = r["currency"]
        net_revenue = (
            r["gross_revenue"] - r["discounts"] - r["cancelled_amount"] - r["returned_amount"]
        )
        out.append(
            {
                "day": r["day"].isoformat(),
                "channel": r["channel"],
                "currency": c,
                "orders": r["orders"],
                "cancelled_orders": r["cancelled_orders"],
                "units": r["units"],
                "cancelled_units": r["cancelled_units"],
                "returned_units": r["returned_units"],
                "net_units": r["units"] - r["cancelled_units"] - r["returned_units"],
                "gross": money(r["gross"], c),
                "net_sales": money(r["net_sales"], c),
                "gross_revenue": money(r["gross_revenue"], c),
                "discounts": money(r["discounts"], c),
                "cancelled_amount": money(r["cancelled_amount"], c),
                "returned_amount": money(r["returned_amount"], c),
                "net_revenue": money(net_revenue, c),
                "revenue": money(net_revenue, c),
                "captured": money(r["captured"], c),
                "refunded": money(r["refunded"], c),
                "net_captured": money(r["captured"] - r["refunded"], c),
            }
        )
    return out


def average_order_value(
    pool: ConnectionPool, period: DateRange, *, by_channel: bool = False
) -> list[dict]:
    """Per currency (and channel): net sales over the orders not cancelled whole."""
    where, params = period.where("placed_at")
    group = "currency, channel" if by_channel else "currency"
    query = sql.SQL(
        "SELECT {g}, count(*) AS orders, "
        "count(*) FILTER (WHERE cancelled_at IS NOT NULL) AS cancelled_orders, "
        "coalesce(sum(total) FILTER (WHERE cancelled_at IS NULL), 0) AS net_sales "
        "FROM {t} WHERE NOT split AND {w} GROUP BY {g} ORDER BY {g}"
    ).format(g=sql.SQL(group), t=table("order_facts"), w=where)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    out = []
    for r in rows:
        c, kept = r["currency"], r["orders"] - r["cancelled_orders"]
        aov = None if kept == 0 else money(r["net_sales"] / Decimal(kept), c)
        out.append(
            {
                "currency": c,
                **({"channel": r["channel"]} if by_channel else {}),
                "orders": r["orders"],
                "cancelled_orders": r["cancelled_orders"],
                "net_sales": money(r["net_sales"], c),
                "total": money(r["net_sales"], c),
                "average_order_value": aov,
            }
        )
    return out


def orders_by_status(pool: ConnectionPool, period: DateRange) -> list[dict]:
    """Every order status, with how many of the orders placed in the period are in it now."""
    where, params = period.where("placed_at")
    query = sql.SQL(
        "SELECT status, count(*) AS orders FROM {} WHERE NOT split AND {} GROUP BY status"
    ).format(table("order_facts"), where)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        counts = {r["status"]: r["orders"] for r in cur.execute(query, params).fetchall()}
    return [{"status": s, "orders": counts.get(s, 0)} for s in STATUSES]
