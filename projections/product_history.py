"""Read model: a product's field-level change history (details, price, lifecycle), one row per
changed field, with old and new values, reason, actor and time, from the typed product events;
and the query that reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.money import Money
from domain.product.events import LifecycleStatusChanged, PriceChanged, ProductDetailsChanged
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema


def _money(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else m.model_dump(mode="json")


def _changes(e: RecordedEvent) -> list[tuple[str, Any, Any, str | None, str | None]]:
    """(field, old, new, reason, change_type) for each field the event changed."""
    match e.to_domain():
        case ProductDetailsChanged(changes=changes):
            return [(c.field, c.old, c.new, None, None) for c in changes]
        case PriceChanged(old=old, new=new, reason=reason, change_type=change_type):
            return [("price", _money(old), _money(new), reason, change_type)]
        case LifecycleStatusChanged(old_status=old, new_status=new, reason=reason):
            return [("status", old, new, reason, None)]
    return []


class ProductHistoryView(Projection):
    name = "product_history"
    topics = (
        "product.ProductDetailsChanged",
        "product.PriceChanged",
        "product.LifecycleStatusChanged",
    )
    ddl = """
    CREATE TABLE {schema}.changes (
        product_id uuid NOT NULL,
        version bigint NOT NULL,
        field text NOT NULL,
        old jsonb,
        new jsonb,
        reason text,
        change_type text,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        position bigint NOT NULL,
        PRIMARY KEY (product_id, version, field)
    );
    """
    comments = {
        "changes": "A product's field-level change history: one row per changed field.",
        "changes.product_id": "The product (rm_product_catalog.products.id).",
        "changes.version": "Stream version of the event that made the change.",
        "changes.field": "Which field changed (name, description, price, status, ...).",
        "changes.old": "Value before (JSON; NULL when first set).",
        "changes.new": "Value after (JSON).",
        "changes.reason": "Reason given with the change, if any.",
        "changes.change_type": "Kind of price change (e.g. promotion), if a price change.",
        "changes.actor": "Who made the change.",
        "changes.occurred_at": "When the change was made (business time).",
        "changes.position": "Event-log position of the event.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        rows = [
            (
                e.stream_id,
                e.version,
                field,
                Jsonb(old),
                Jsonb(new),
                reason,
                change_type,
                e.meta.actor,
                e.meta.occurred_at,
                e.position,
            )
            for e in events
            for field, old, new, reason, change_type in _changes(e)
        ]
        if rows:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {}.changes VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                    "ON CONFLICT DO NOTHING"
                ).format(sql.Identifier(schema)),
                rows,
            )

    def compare_key(self) -> dict[str, str]:
        return {"changes": "product_id, version, field"}


def product_history(pool: ConnectionPool, product_id: UUID) -> list[dict[str, Any]]:
    """The product's changes in stream order (fields of one change in name order)."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT field, old, new, reason, change_type, actor, occurred_at, version "
                "FROM {}.changes WHERE product_id = %s ORDER BY version, field"
            ).format(sql.Identifier(live_schema("product_history"))),
            (product_id,),
        )
        return cur.fetchall()
