"""Read model: a product's field-level change history (details, price, lifecycle), one row per
changed field, with old and new values, reason, actor and time; and the query that reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema


def _changes(e: RecordedEvent) -> list[tuple[str, Any, Any, str | None, str | None]]:
    """(field, old, new, reason, change_type) for each field the event changed."""
    d = e.data
    if e.name == "ProductDetailsChanged":
        return [(c["field"], c.get("old"), c.get("new"), None, None) for c in d["changes"]]
    if e.name == "PriceChanged":
        return [("price", d.get("old"), d["new"], d.get("reason"), d.get("change_type"))]
    if e.name == "LifecycleStatusChanged":
        return [("status", d["old_status"], d["new_status"], d.get("reason"), None)]
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
