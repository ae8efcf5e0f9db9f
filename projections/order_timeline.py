"""Read model: an order's timeline, one entry per event of its stream, in stream order.

Entries are typed in snake case (``order_placed``, ``order_modified``, …); a custom entry
keeps the type its author gave it."""

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
from projections.order_detail import ORDER_TOPICS


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _describe(e: RecordedEvent) -> str:
    d = e.data
    match e.name:
        case "OrderPlaced":
            total = d["total"]
            return (
                f"Order {d['order_number']} placed with {len(d['lines'])} line(s), "
                f"total {total['amount']} {total['currency']}."
            )
        case "OrderModified":
            return f"{d['field']} changed: {d['reason']}"
        case "NoteAdded":
            return f"{d['kind'].capitalize()} note added."
        case "NoteEdited":
            return "Note edited."
        case "NoteDeleted":
            return "Note deleted."
        case "TagAdded":
            return f"Tagged '{d['tag']}'."
        case "TagRemoved":
            return f"Tag '{d['tag']}' removed."
        case "OrderConfirmed":
            places = sorted({a["location"] for a in d["allocations"]})
            return f"Order confirmed: stock reserved at {', '.join(places)}, payment authorized."
        case "OrderCancelled":
            return f"Order cancelled: {d['reason']}."
        case "TimelineEntryAdded":
            return d["description"]
        case "LineEditRequested":
            return f"Line edit requested ({d['kind']} {d['sku']}): {d['reason']}"
        case "LineEditRejected":
            return f"Line edit rejected: {d['reason']}."
    return _snake(e.name).replace("_", " ").capitalize() + "."


def _entry(e: RecordedEvent) -> tuple:
    custom = e.name == "TimelineEntryAdded"
    entry_type = e.data["entry_type"] if custom else _snake(e.name)
    metadata = e.data.get("metadata", {}) if custom else {}
    return (
        e.stream_id,
        e.version,
        e.position,
        entry_type,
        _describe(e),
        e.meta.occurred_at,
        e.meta.actor,
        e.meta.correlation_id,
        e.meta.causation_id,
        Jsonb(metadata),
        Jsonb(e.data),
    )


class OrderTimelineView(Projection):
    name = "order_timeline"
    topics = ORDER_TOPICS
    ddl = """
    CREATE TABLE {schema}.order_timeline (
        order_id uuid NOT NULL,
        version bigint NOT NULL,
        position bigint NOT NULL,
        type text NOT NULL,
        description text NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor text NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        metadata jsonb NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (order_id, version)
    );
    """
    comments = {
        "order_timeline": "An order's history: one row per event of its stream.",
        "order_timeline.order_id": "The order's stream id.",
        "order_timeline.version": "The event's version in the order's stream.",
        "order_timeline.position": "Event-log position of the event.",
        "order_timeline.type": "Event name (OrderPlaced, OrderConfirmed, ...).",
        "order_timeline.description": "One line in words.",
        "order_timeline.occurred_at": "When it happened (business time).",
        "order_timeline.actor": "Who or what did it.",
        "order_timeline.correlation_id": "The request (or saga run) it came from.",
        "order_timeline.causation_id": "What caused it (an event or a request).",
        "order_timeline.metadata": "The event's metadata (JSON).",
        "order_timeline.data": "The event's fields (JSON).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.order_timeline VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (order_id, version) DO NOTHING"
            ).format(sql.Identifier(schema)),
            [_entry(e) for e in events],
        )

    def compare_key(self) -> dict[str, str]:
        return {"order_timeline": "order_id, version"}


def list_timeline(
    pool: ConnectionPool,
    order_id: UUID,
    *,
    descending: bool = False,
    limit: int = 500,
    after_version: int | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries, ascending (or descending) by stream version."""
    direction = sql.SQL("DESC" if descending else "ASC")
    cursor_clause = sql.SQL("")
    params: list[Any] = [order_id]
    if after_version is not None:
        cursor_clause = sql.SQL("AND version < %s" if descending else "AND version > %s")
        params.append(after_version)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT version, position, type, description, occurred_at, actor, "
                "correlation_id, causation_id, metadata, data FROM {}.order_timeline "
                "WHERE order_id = %s {} ORDER BY version {} LIMIT %s"
            ).format(sql.Identifier(live_schema("order_timeline")), cursor_clause, direction),
            (*params, limit),
        )
        return cur.fetchall()
