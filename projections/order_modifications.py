"""Read model: an order's modification history, one row per ``OrderModified``."""

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


class OrderModificationsView(Projection):
    name = "order_modifications"
    topics = ("order.OrderModified",)
    ddl = """
    CREATE TABLE {schema}.order_modifications (
        order_id uuid NOT NULL,
        version bigint NOT NULL,
        position bigint NOT NULL,
        field text NOT NULL,
        modification_type text NOT NULL,
        old_value jsonb NOT NULL,
        new_value jsonb NOT NULL,
        reason text NOT NULL,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (order_id, version)
    );
    """
    comments = {
        "order_modifications": "Changes made to placed orders (address, notes, tags, ...).",
        "order_modifications.order_id": "The order's stream id.",
        "order_modifications.version": "Version of the event in the order's stream.",
        "order_modifications.position": "Event-log position of the event.",
        "order_modifications.field": "Which field changed.",
        "order_modifications.modification_type": "Kind of modification.",
        "order_modifications.old_value": "Value before (JSON).",
        "order_modifications.new_value": "Value after (JSON).",
        "order_modifications.reason": "Reason given.",
        "order_modifications.actor": "Who changed it.",
        "order_modifications.occurred_at": "When (business time).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.order_modifications VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (order_id, version) DO NOTHING"
            ).format(sql.Identifier(schema)),
            [
                (
                    e.stream_id,
                    e.version,
                    e.position,
                    e.data["field"],
                    e.data["modification_type"],
                    Jsonb(e.data["old_value"]),
                    Jsonb(e.data["new_value"]),
                    e.data["reason"],
                    e.data["actor"],
                    e.meta.occurred_at,
                )
                for e in events
            ],
        )

    def compare_key(self) -> dict[str, str]:
        return {"order_modifications": "order_id, version"}


def list_modifications(
    pool: ConnectionPool, order_id: UUID, *, limit: int = 500, after_version: int | None = None
) -> list[dict[str, Any]]:
    """Up to ``limit`` modifications in stream order, after ``after_version`` if given."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT version, position, field, modification_type, old_value, new_value, "
                "reason, actor, occurred_at FROM {}.order_modifications "
                "WHERE order_id = %s AND version > %s ORDER BY version LIMIT %s"
            ).format(sql.Identifier(live_schema("order_modifications"))),
            (order_id, after_version or 0, limit),
        )
        return cur.fetchall()
