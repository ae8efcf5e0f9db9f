"""Fulfillment rate, on-time delivery rate and cancellation statistics, as
``docs/analytics.md`` defines them.

- Fulfillment rate: of the orders placed in the period with open units (not cancelled whole),
  the share whose every open unit has shipped.
- On-time delivery rate: of the orders placed in the period whose every open unit was
  delivered, the share delivered by the end (in the asked time zone) of the promised day (the
  scheduled delivery, else ``analytics_orders.PROMISE_DAYS`` after the placement day).
- Cancellations: orders cancelled whole in the period and units cancelled in the period (by
  the cancellation's business time), per currency and per reason; the amount refunded on the
  orders cancelled whole; the mean time from a cancellation request to its review (requests
  reviewed in the period).
"""

from __future__ import annotations

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.analytics_common import DateRange, money, rate, table
from projections.analytics_orders import PROMISE_DAYS


def _one(pool: ConnectionPool, query: sql.Composable, params: list) -> dict:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def fulfillment_rate(pool: ConnectionPool, period: DateRange) -> dict:
    where, params = period.where("placed_at")
    r = _one(
        pool,
        sql.SQL(
            "SELECT count(*) AS orders, count(*) FILTER (WHERE shipped_units >= "
            "units - cancelled_units) AS fulfilled FROM {} WHERE NOT split AND "
            "cancelled_at IS NULL AND units > cancelled_units AND {}"
        ).format(table("order_facts"), where),
        params,
    )
    return {**r, "rate": rate(r["fulfilled"], r["orders"])}


def on_time_delivery_rate(pool: ConnectionPool, period: DateRange) -> dict:
    where, params = period.where("placed_at")
    promised = sql.SQL("coalesce(scheduled_delivery, {} + {})").format(
        period.day("placed_at"), sql.Literal(PROMISE_DAYS)
    )
    r = _one(
        pool,
        sql.SQL(
            "SELECT count(*) AS delivered, count(*) FILTER (WHERE {} <= {}) AS on_time "
            "FROM {} WHERE NOT split AND fully_delivered_at IS NOT NULL AND "
            "cancelled_at IS NULL AND {}"
        ).format(period.day("fully_delivered_at"), promised, table("order_facts"), where),
        params,
    )
    return {**r, "rate": rate(r["on_time"], r["delivered"])}


def _cancelled(period: DateRange) -> tuple[sql.Composable, list]:
    """One row per order cancelled whole and per line cancellation in the period."""
    whole, p1 = period.where("cancelled_at")
    lines, p2 = period.where("c.cancelled_at")
    query = sql.SQL(
        "SELECT cancellation_reason AS reason, currency, 1 AS orders, 0 AS units, "
        "0 AS amount, refunded FROM {o} WHERE NOT split AND cancelled_at IS NOT NULL AND {w1} "
        "UNION ALL SELECT c.reason, o.currency, 0, c.quantity, c.quantity * l.unit_price, 0 "
        "FROM {c} c JOIN {o} o USING (order_id) JOIN {l} l USING (order_id, line_id) "
        "WHERE NOT o.split AND {w2}"
    ).format(
        o=table("order_facts"),
        c=table("line_cancellations"),
        l=table("line_facts"),
        w1=whole,
        w2=lines,
    )
    return query, [*p1, *p2]


def cancellation_reasons(pool: ConnectionPool, period: DateRange) -> list[dict]:
    """Per reason and currency: orders cancelled whole, units cancelled and their amount."""
    rows, params = _cancelled(period)
    query = sql.SQL(
        "SELECT coalesce(reason, 'unknown') AS reason, currency, sum(orders) AS orders, "
        "sum(units) AS units, sum(amount) AS amount FROM ({}) x GROUP BY 1, currency "
        "ORDER BY 1, currency"
    ).format(rows)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(query, params).fetchall()
    return [
        {
            "reason": r["reason"],
            "currency": r["currency"],
            "cancelled_orders": int(r["orders"]),
            "cancelled_units": int(r["units"]),
            "cancelled_amount": money(r["amount"], r["currency"]),
        }
        for r in found
    ]


def cancellation_statistics(pool: ConnectionPool, period: DateRange) -> dict:
    rows, params = _cancelled(period)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        per_currency = cur.execute(
            sql.SQL(
                "SELECT currency, sum(orders) AS orders, sum(units) AS units, "
                "sum(amount) AS amount, sum(refunded) AS refunded FROM ({}) x "
                "GROUP BY currency ORDER BY currency"
            ).format(rows),
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
        "cancelled_orders": sum(int(r["orders"]) for r in per_currency),
        "by_currency": [
            {
                "currency": r["currency"],
                "cancelled_orders": int(r["orders"]),
                "cancelled_units": int(r["units"]),
                "cancelled_amount": money(r["amount"], r["currency"]),
                "refunded": money(r["refunded"], r["currency"]),
            }
            for r in per_currency
        ],
        "by_reason": cancellation_reasons(pool, period),
        "requests_reviewed": review["reviewed"],
        "requests_approved": review["approved"],
        "average_review_seconds": None if seconds is None else round(float(seconds), 3),
    }
