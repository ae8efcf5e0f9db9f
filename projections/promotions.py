"""The promotions view: a row per promotion (its terms, status and version) and a row per
order that got one at placement, marked when the order is cancelled, so a promotion's
``redemptions`` are the orders that carry it and are not cancelled, and ``remaining`` its
limit less those. The order rows fold the decoded ``OrderPlaced``/``OrderCancelled`` dicts
(validating every order would cost a rebuild dearly); promotions fold typed events.
``get_promotion`` and ``list_promotions`` are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.promotion import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "promotions"

_STATUS = {
    ev.PromotionActivated: "active",
    ev.PromotionPaused: "paused",
    ev.PromotionEnded: "ended",
}


class PromotionsView(Projection):
    name = NAME
    topics = (
        *(cls.stored_name() for cls in ev.PROMOTION_EVENTS),
        "order.OrderPlaced",
        "order.OrderCancelled",
    )
    ddl = """
    CREATE TABLE {schema}.promotions (
        id uuid PRIMARY KEY, name text NOT NULL, code text, target text NOT NULL,
        kind text NOT NULL, value numeric NOT NULL, currency text, conditions jsonb NOT NULL,
        valid_from timestamptz, valid_to timestamptz, usage_limit bigint,
        per_customer_limit bigint, stackable boolean NOT NULL, status text NOT NULL,
        version bigint NOT NULL, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.promotions (created_at, id);
    CREATE TABLE {schema}.order_promotions (
        order_id uuid NOT NULL, promotion_id uuid NOT NULL, customer_id uuid NOT NULL,
        amount numeric NOT NULL, currency text NOT NULL, cancelled boolean NOT NULL,
        PRIMARY KEY (order_id, promotion_id));
    CREATE INDEX ON {schema}.order_promotions (promotion_id) WHERE NOT cancelled;
    """
    comments = {
        "promotions": "One row per promotion (its terms as created, its lifecycle status).",
        "promotions.id": "The promotion's stream id.",
        "promotions.name": "Its name.",
        "promotions.code": "The code customers type (NULL: applies by itself when active).",
        "promotions.target": "What it discounts: order, products or shipping.",
        "promotions.kind": "percentage or fixed_amount.",
        "promotions.value": "The percentage (0-100) or the amount in currency.",
        "promotions.currency": "Currency of a fixed amount or minimum subtotal (NULL: any).",
        "promotions.conditions": "min_subtotal, skus, category_ids, segments, first_order_only.",
        "promotions.valid_from": "Start of its validity window (NULL: open).",
        "promotions.valid_to": "End of its validity window, exclusive (NULL: open).",
        "promotions.usage_limit": "Uses across all orders (NULL: unlimited).",
        "promotions.per_customer_limit": "Uses per customer (NULL: unlimited).",
        "promotions.stackable": "Whether it combines with other stackable promotions.",
        "promotions.status": "draft, active, paused or ended.",
        "promotions.version": "Version of the promotion's stream the row reflects.",
        "promotions.created_at": "Business time of its creation.",
        "promotions.updated_at": "Business time of its last event.",
        "order_promotions": "One row per order and promotion it got at placement.",
        "order_promotions.order_id": "The order.",
        "order_promotions.promotion_id": "The promotion.",
        "order_promotions.customer_id": "The order's customer.",
        "order_promotions.amount": "What the promotion took off the order.",
        "order_promotions.currency": "The order's currency.",
        "order_promotions.cancelled": "The order was cancelled: the use was given back.",
    }

    CREATE = """INSERT INTO {}.promotions VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
        %s, %s, 'draft', %s, %s, %s) ON CONFLICT DO NOTHING"""
    MOVE = """UPDATE {}.promotions SET status = %s, version = %s, updated_at = %s
        WHERE id = %s AND version < %s"""
    USED = (
        "INSERT INTO {}.order_promotions VALUES (%s, %s, %s, %s, %s, false) ON CONFLICT DO NOTHING"
    )
    CANCELLED = "UPDATE {}.order_promotions SET cancelled = true WHERE order_id = %s"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> None:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)

        for e in events:
            at = e.meta.occurred_at
            if e.type == "order.OrderPlaced":
                for p in e.data.get("promotions") or ():
                    amount = p["amount"]
                    run(self.USED, e.stream_id, p["promotion_id"], e.data["customer_id"],
                        amount["amount"], amount["currency"])  # fmt: skip
                continue
            if e.type == "order.OrderCancelled":
                run(self.CANCELLED, e.stream_id)
                continue
            event = e.to_domain()
            if isinstance(event, ev.PromotionCreated):
                run(self.CREATE, e.stream_id, event.name, event.code, event.target, event.kind,
                    event.value, event.currency, event.conditions.model_dump_json(),
                    event.valid_from, event.valid_to, event.usage_limit,
                    event.per_customer_limit, event.stackable, e.version, at, at)  # fmt: skip
            elif type(event) in _STATUS:
                run(self.MOVE, _STATUS[type(event)], e.version, at, e.stream_id, e.version)

    def compare_key(self) -> dict[str, str]:
        return {"promotions": "id", "order_promotions": "order_id, promotion_id"}


_SELECT = """SELECT p.*, (SELECT count(*) FROM {0}.order_promotions u
    WHERE u.promotion_id = p.id AND NOT u.cancelled) AS redemptions FROM {0}.promotions p"""


def _document(row: dict[str, Any]) -> dict[str, Any]:
    conditions = row["conditions"]
    if isinstance(conditions, (str, bytes)):
        conditions = orjson.loads(conditions)
    currency = row["currency"]
    value: Any = str(row["value"])
    if row["kind"] == "fixed_amount":
        value = {"amount": value, "currency": currency}
    if conditions.get("min_subtotal") is not None:
        conditions["min_subtotal"] = {
            "amount": str(conditions["min_subtotal"]),
            "currency": currency,
        }
    limit = row["usage_limit"]
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "code": row["code"],
        "target": row["target"],
        "kind": row["kind"],
        "value": value,
        "conditions": conditions,
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "usage_limit": limit,
        "per_customer_limit": row["per_customer_limit"],
        "stackable": row["stackable"],
        "status": row["status"],
        "redemptions": row["redemptions"],
        "remaining": None if limit is None else max(0, limit - row["redemptions"]),
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def get_promotion(pool: ConnectionPool, promotion_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(_SELECT + " WHERE p.id = %s").format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, (promotion_id,)).fetchone()
    return None if row is None else _document(row)


def list_promotions(
    pool: ConnectionPool, *, status: str | None, after: tuple[Any, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """Oldest first, ``limit`` of them after the ``(created_at, id)`` key ``after``."""
    where, params = [sql.SQL("TRUE")], []
    if status is not None:
        where.append(sql.SQL("p.status = %s"))
        params.append(status)
    if after is not None:
        where.append(sql.SQL("(p.created_at, p.id) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL(_SELECT + " WHERE {1} ORDER BY p.created_at, p.id LIMIT %s").format(
        sql.Identifier(live_schema(NAME)), sql.SQL(" AND ").join(where)
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (*params, limit)).fetchall()
    return [_document(r) for r in rows]
