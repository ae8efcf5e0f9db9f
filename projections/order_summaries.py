"""Read model: one row per order for lists and filters (customer, status, tag, dates), paged
by a cursor on (created_at desc, id desc)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.batch_writes import insert_records
from projections.order_detail import ORDER_TOPICS, evolve_documents

COLUMNS = (
    "id, number, customer_id, status, currency, total, tags, channel, "
    "created_at, updated_at, version"
)


class OrderSummariesView(Projection):
    name = "order_summaries"
    topics = ORDER_TOPICS
    ddl = """
    CREATE TABLE {schema}.order_summaries (
        id uuid PRIMARY KEY,
        number bigint NOT NULL,
        customer_id uuid NOT NULL,
        status text NOT NULL,
        currency text NOT NULL,
        total numeric NOT NULL,
        tags text[] NOT NULL,
        tag_keys text[] NOT NULL,
        channel text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version bigint NOT NULL,
        doc jsonb NOT NULL
    );
    CREATE INDEX ON {schema}.order_summaries (created_at DESC, id DESC);
    CREATE INDEX ON {schema}.order_summaries (customer_id, created_at DESC);
    CREATE INDEX ON {schema}.order_summaries (status, created_at DESC);
    CREATE INDEX ON {schema}.order_summaries USING gin (tag_keys);
    """
    comments = {
        "order_summaries": "One row per order for lists and filters (GET /orders).",
        "order_summaries.id": "The order's stream id.",
        "order_summaries.number": "Human order number, increasing with placement.",
        "order_summaries.customer_id": "The customer who placed it.",
        "order_summaries.status": "Current status (pending, confirmed, shipped, cancelled, ...).",
        "order_summaries.currency": "ISO 4217 currency of the order.",
        "order_summaries.total": "Order total as placed or last edited (tax, shipping included).",
        "order_summaries.tags": "Tags as given (key or key:value).",
        "order_summaries.tag_keys": "Tag keys only, for filtering.",
        "order_summaries.channel": "Sales channel (direct, web, ...).",
        "order_summaries.created_at": "When the order was placed (business time).",
        "order_summaries.updated_at": "Business time of its last event.",
        "order_summaries.version": "Version of the order's stream the row reflects.",
        "order_summaries.doc": "The summary as the list answers it (JSON).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        table = sql.SQL("{}.order_summaries").format(sql.Identifier(schema))
        ids = list({e.stream_id for e in events})
        cur.execute(sql.SQL("SELECT id, doc FROM {} WHERE id = ANY(%s)").format(table), (ids,))
        docs = {r["id"]: r["doc"] for r in cur.fetchall()}
        changed = evolve_documents(docs, events)
        # The batch's rows in one statement (one per order: no id twice).
        insert_records(
            cur,
            table,
            ROW_COLUMNS,
            [_row(i, docs[i]) for i in changed],
            sql.SQL(
                "ON CONFLICT (id) DO UPDATE SET "
                "status = excluded.status, total = excluded.total, tags = excluded.tags, "
                "tag_keys = excluded.tag_keys, updated_at = excluded.updated_at, "
                "version = excluded.version, doc = excluded.doc"
            ),
        )

    def compare_key(self) -> dict[str, str]:
        return {"order_summaries": "id"}


def _row(order_id: UUID, doc: dict[str, Any]) -> tuple:
    return (
        order_id,
        doc["number"],
        doc["customer_id"],
        doc["status"],
        doc["currency"],
        Decimal(doc["total"]["amount"]),
        doc["tags"],
        [t.casefold() for t in doc["tags"]],
        doc["channel"],
        doc["created_at"],
        doc["updated_at"],
        doc["version"],
        doc,
    )


#: The table's columns, in ``_row``'s order.
ROW_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "status",
    "currency",
    "total",
    "tags",
    "tag_keys",
    "channel",
    "created_at",
    "updated_at",
    "version",
    "doc",
)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    customer_id: UUID | None = None
    status: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def list_orders(
    pool: ConnectionPool,
    f: OrderFilter,
    *,
    limit: int = 50,
    after: tuple[datetime, UUID] | None = None,
) -> tuple[list[dict[str, Any]], tuple[datetime, UUID] | None]:
    """One page of orders, newest first, and the key to continue after (None at the end)."""
    where, params = [], []
    if f.customer_id is not None:
        where.append("customer_id = %s")
        params.append(f.customer_id)
    if f.status is not None:
        where.append("status = %s")
        params.append(f.status)
    if f.tag is not None:
        where.append("tag_keys @> ARRAY[%s]::text[]")
        params.append(f.tag.strip().casefold())
    if f.created_from is not None:
        where.append("created_at >= %s")
        params.append(f.created_from)
    if f.created_to is not None:
        where.append("created_at < %s")
        params.append(f.created_to)
    if after is not None:
        where.append("(created_at, id) < (%s, %s)")
        params.extend(after)
    query = sql.SQL(
        "SELECT {} FROM {}.order_summaries {} ORDER BY created_at DESC, id DESC LIMIT %s"
    )
    clause = sql.SQL("WHERE " + " AND ".join(where) if where else "")
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query.format(sql.SQL(COLUMNS), sql.Identifier(live_schema("order_summaries")), clause),
            (*params, limit + 1),
        )
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1]["created_at"], rows[-1]["id"]) if more else None)
