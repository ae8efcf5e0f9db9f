"""Sales by day, channel and currency, and the average order value (amounts are never summed
across currencies). An order counts on its placement day (UTC); its captures and refunds count
with it, so ``revenue = captured - refunded`` per day is the revenue of that day's orders."""

from __future__ import annotations

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.analytics_common import DateRange, money, table


def sales_by_day(pool: ConnectionPool, period: DateRange) -> list[dict]:
    where, params = period.where("day")
    query = sql.SQL(
        "SELECT day, channel, currency, count(*) AS orders, "
        "count(*) FILTER (WHERE cancelled_at IS NOT NULL) AS cancelled_orders, "
        "sum(units) AS units, sum(total) AS gross, "
        "coalesce(sum(total) FILTER (WHERE cancelled_at IS NULL), 0) AS net_sales, "
        "sum(captured) AS captured, sum(refunded) AS refunded "
        "FROM {} WHERE {} GROUP BY day, channel, currency ORDER BY day, channel, currency"
    ).format(table("order_facts"), where)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    return [
        {
            "day": r["day"].isoformat(),
            "channel": r["channel"],
            "currency": r["currency"],
            "orders": r["orders"],
            "cancelled_orders": r["cancelled_orders"],
            "units": r["units"],
            "gross": money(r["gross"], r["currency"]),
            "net_sales": money(r["net_sales"], r["currency"]),
            "captured": money(r["captured"], r["currency"]),
            "refunded": money(r["refunded"], r["currency"]),
            "revenue": money(r["captured"] - r["refunded"], r["currency"]),
        }
        for r in rows
    ]


def average_order_value(
    pool: ConnectionPool, period: DateRange, *, by_channel: bool = False
) -> list[dict]:
    """Per currency (and channel): the mean total of the orders placed and not cancelled."""
    where, params = period.where("day")
    group = "currency, channel" if by_channel else "currency"
    query = sql.SQL(
        "SELECT {g}, count(*) AS orders, sum(total) AS total FROM {t} "
        "WHERE cancelled_at IS NULL AND {w} GROUP BY {g} ORDER BY {g}"
    ).format(g=sql.SQL(group), t=table("order_facts"), w=where)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    return [
        {
            "currency": r["currency"],
            **({"channel": r["channel"]} if by_channel else {}),
            "orders": r["orders"],
            "total": money(r["total"], r["currency"]),
            "average_order_value": money(r["total"] / r["orders"], r["currency"]),
        }
        for r in rows
    ]
