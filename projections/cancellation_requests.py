"""Read model: cancellation requests and their review (``GET /cancellation-requests``); a
request whose void or refund the gateway kept failing is ``failed`` (``CancellationFailed`` on
the order's stream), and ``approved`` again while a retry runs (``CancellationRetried``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema


class CancellationRequestsView(Projection):
    name = "cancellation_requests"
    topics = (
        "order.CancellationRequested",
        "order.CancellationReviewed",
        "order.CancellationCompleted",
        "order.CancellationFailed",
        "order.CancellationRetried",
    )
    ddl = """
    CREATE TABLE {schema}.requests (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        status text NOT NULL,
        reason text NOT NULL,
        detail text,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL,
        requested_position bigint NOT NULL,
        reviewed_by text,
        note text
    );
    CREATE INDEX ON {schema}.requests (status, requested_position);
    """
    comments = {
        "requests": "Cancellation requests and their review.",
        "requests.id": "The request's id.",
        "requests.order_id": "The order it asks to cancel.",
        "requests.status": "pending, approved, rejected, completed or failed.",
        "requests.reason": "Reason code given by the requester.",
        "requests.detail": "Free text from the requester.",
        "requests.requested_by": "Who asked.",
        "requests.requested_at": "When (business time).",
        "requests.requested_position": "Event-log position of the request.",
        "requests.reviewed_by": "Who reviewed it (NULL until reviewed).",
        "requests.note": "Reviewer's note.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        t = sql.SQL("{}.requests").format(sql.Identifier(schema))
        for e in events:  # few events: one statement each, in order
            d = e.data
            match e.name:
                case "CancellationRequested":
                    cur.execute(
                        sql.SQL(
                            "INSERT INTO {} VALUES (%s,%s,'pending',%s,%s,%s,%s,%s,NULL,NULL) "
                            "ON CONFLICT (id) DO NOTHING"
                        ).format(t),
                        (
                            d["request_id"],
                            e.stream_id,
                            d["reason"],
                            d.get("detail"),
                            d["requested_by"],
                            e.meta.occurred_at,
                            e.position,
                        ),  # fmt: skip
                    )
                case "CancellationReviewed":
                    cur.execute(
                        sql.SQL(
                            "UPDATE {} SET status = %s, reviewed_by = %s, note = %s WHERE id = %s"
                        ).format(t),  # fmt: skip
                        (d["decision"], d["reviewed_by"], d.get("note"), d["request_id"]),
                    )
                case "CancellationCompleted":
                    cur.execute(
                        sql.SQL("UPDATE {} SET status = 'completed' WHERE id = %s").format(t),
                        (d["request_id"],),
                    )
                case "CancellationFailed":
                    cur.execute(
                        sql.SQL("UPDATE {} SET status = 'failed' WHERE id = %s").format(t),
                        (d["request_id"],),
                    )
                case "CancellationRetried":
                    cur.execute(
                        sql.SQL(
                            "UPDATE {} SET status = 'approved', reviewed_by = %s, "
                            "note = COALESCE(%s, note) WHERE id = %s"
                        ).format(t),  # fmt: skip
                        (d["retried_by"], d.get("note"), d["request_id"]),
                    )

    def compare_key(self) -> dict[str, str]:
        return {"requests": "id"}


def list_requests(
    pool: ConnectionPool,
    *,
    status: str | None = None,
    order_id: UUID | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    where, params = [], []
    if status:
        where.append("status = %s")
        params.append(status)
    if order_id:
        where.append("order_id = %s")
        params.append(order_id)
    clause = sql.SQL(("WHERE " + " AND ".join(where)) if where else "")
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT id::text, order_id::text, status, reason, detail, requested_by, "
                "requested_at::text, reviewed_by, note FROM {}.requests {} "
                "ORDER BY requested_position LIMIT %s"
            ).format(sql.Identifier(live_schema("cancellation_requests")), clause),
            (*params, limit),
        )
        return cur.fetchall()
