"""Fulfillment rate, on-time delivery rate and cancellation statistics.

- Fulfillment rate: of the orders placed in the period and not cancelled, the share whose every
  remaining unit has shipped.
- On-time delivery rate: of the orders placed in the period and fully delivered, the share
  delivered by the end (UTC) of the promised day (the scheduled delivery, else a fixed number
  of days after placement, ``analytics_orders.PROMISE_DAYS``).
- Cancellations: orders cancelled in the period (by cancellation day), the amount refunded on
  them (per currency), and the mean time from a cancellation request to its review (requests
  reviewed in the period).
"""

from __future__ import annotations

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.analytics_common import DateRange, money, rate, table


def _one(pool: ConnectionPool, query: sql.Composable, params: list) -> dict:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def fulfillment_rate(pool: ConnectionPool, period: DateRange) -> dict:
    where, params = period.where("day")
    r = _one(
        pool,
        sql.SQL(
            "SELECT count(*) AS orders, count(*) FILTER (WHERE fully_shipped_at IS NOT NULL) "
            "AS fulfilled FROM {} WHERE cancelled_at IS NULL AND units > cancelled_units AND {}"
        ).format(table("order_facts"), where),
        params,
    )
    return {**r, "rate": rate(r["fulfilled"], r["orders"])}


def on_time_delivery_rate(pool: ConnectionPool, period: DateRange) -> dict:
    where, params = period.where("day")
    r = _one(
        pool,
        sql.SQL(
            "SELECT count(*) AS delivered, count(*) FILTER (WHERE "
            "(fully_delivered_at AT TIME ZONE 'UTC')::date <= promised_by) AS on_time "
            "FROM {} WHERE fully_delivered_at IS NOT NULL AND {}"
        ).format(table("order_facts"), where),
        params,
    )
    return {**r, "rate": rate(r["on_time"], r["delivered"])}


def cancellation_statistics(pool: ConnectionPool, period: DateRange) -> dict:
    where, params = period.where("cancelled_at")
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        per_currency = cur.execute(
            sql.SQL(
                "SELECT currency, count(*) AS cancelled, sum(refunded) AS refunded "
                "FROM {} WHERE cancelled_at IS NOT NULL AND {} GROUP BY currency "
                "ORDER BY currency"
            ).format(table("order_facts"), where),
            params,
        ).fetchall()
        review_where, review_params = period.where("reviewed_at")
        review = cur.execute(
            sql.SQL(
                "SELECT count(*) AS reviewed, "
                "avg(extract(epoch FROM reviewed_at - requested_at)) AS seconds, "
                "count(*) FILTER (WHERE decision = 'approved') AS approved "
                "FROM {} WHERE reviewed_at IS NOT NULL AND {}"
            ).format(table("cancellation_requests"), review_where),
            review_params,
        ).fetchone()
    seconds = review["seconds"]
    return {
        "cancelled_orders": sum(r["cancelled"] for r in per_currency),
        "by_currency": [
            {
                "currency": r["currency"],
                "cancelled_orders": r["cancelled"],
                "refunded": money(r["refunded"], r["currency"]),
            }
            for r in per_currency
        ],
        "requests_reviewed": review["reviewed"],
        "requests_approved": review["approved"],
        "average_review_seconds": None if seconds is None else round(float(seconds), 3),
    }
