"""Read model: each order's payments ledger (authorizations, captures, voids, refunds) and
its running totals, from the payment streams. A refund is listed once, from its request
(``pending``) to how it settled (``succeeded`` or ``failed``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections import payment_streams as ps
from projections.base import Projection, live_schema
from projections.batch_writes import insert_values


class PaymentsLedgerView(Projection):
    name = "payments_ledger"
    topics = ps.PAYMENT_TOPICS
    ddl = (
        ps.DDL
        + """
    CREATE TABLE {schema}.totals (
        order_id uuid PRIMARY KEY,
        position bigint NOT NULL,
        totals jsonb NOT NULL
    );
    CREATE TABLE {schema}.entries (
        order_id uuid NOT NULL,
        position bigint NOT NULL,
        kind text NOT NULL,
        entry jsonb NOT NULL,
        PRIMARY KEY (order_id, position)
    );
    """
    )
    comments = {
        "totals": "Each order's running payment totals.",
        "totals.order_id": "The order.",
        "totals.position": "Event-log position of the last payment event applied.",
        "totals.totals": "Authorized, captured, voided, refunded amounts (JSON).",
        "entries": "Each order's payment ledger: one row per authorization, capture, void, refund.",
        "entries.order_id": "The order.",
        "entries.position": "Event-log position of the event that opened the entry.",
        "entries.kind": "authorization, capture, void or refund.",
        "entries.entry": "The entry: amount, status (a refund: pending, succeeded, failed).",
        **ps.COMMENTS,
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        owner = ps.resolve(cur, schema, events)
        s = sql.Identifier(schema)
        ids = list({owner[e.stream_id] for e in events if e.stream_id in owner})
        cur.execute(
            sql.SQL(
                "SELECT order_id, position, totals FROM {}.totals WHERE order_id = ANY(%s)"
            ).format(s),
            (ids,),
        )
        rows = cur.fetchall()
        rows = [tuple(r.values()) if isinstance(r, dict) else r for r in rows]
        totals = {r[0]: (r[1], r[2]) for r in rows}
        entries = []
        for e in events:
            order_id = owner.get(e.stream_id)
            if order_id is None:
                continue
            position, t = totals.get(order_id, (0, ps.empty_totals()))
            if e.position <= position:
                continue
            entry = ps.apply_payment(t, e)
            totals[order_id] = (e.position, t)
            if entry is not None:
                entries.append((order_id, e.position, entry["kind"], Jsonb(entry)))
        # One statement per table for the batch (one totals row per order: no key twice).
        insert_values(
            cur,
            sql.SQL("INSERT INTO {}.totals").format(s),
            [(k, p, Jsonb(t)) for k, (p, t) in totals.items()],
            sql.SQL(
                "ON CONFLICT (order_id) DO UPDATE "
                "SET position = excluded.position, totals = excluded.totals"
            ),
        )
        insert_values(
            cur,
            sql.SQL("INSERT INTO {}.entries").format(s),
            entries,
            sql.SQL("ON CONFLICT DO NOTHING"),
        )

    def compare_key(self) -> dict[str, str]:
        return {
            "totals": "order_id",
            "entries": "order_id, position",
            "payment_streams": "stream_id",
        }


def ledger(pool: ConnectionPool, order_id: UUID) -> dict[str, Any]:
    s = sql.Identifier(live_schema("payments_ledger"))
    # both reads in one snapshot: the totals and the entries of the same batch of the view
    with pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute(sql.SQL("SELECT totals FROM {}.totals WHERE order_id = %s").format(s),
                    (order_id,))  # fmt: skip
        row = cur.fetchone()
        cur.execute(
            sql.SQL(
                "SELECT kind, entry FROM {}.entries WHERE order_id = %s ORDER BY position"
            ).format(s),
            (order_id,),
        )
        entries = cur.fetchall()
    t = row["totals"] if row else ps.empty_totals()
    by_kind: dict[str, list] = {"authorization": [], "capture": [], "void": [], "refund": []}
    refunds: dict[str, dict] = {}  # by refund id: requested (pending), then how it settled
    for r in entries:
        if r["kind"] == "refund":
            refunds[r["entry"]["id"]] = {**refunds.get(r["entry"]["id"], {}), **r["entry"]}
        else:
            by_kind[r["kind"]].append(r["entry"])
    by_kind["refund"] = list(refunds.values())
    return {
        "order_id": str(order_id),
        "currency": t["currency"],
        "authorized": t["authorized"],
        "captured": t["captured"],
        "voided": t["voided"],
        "refunded": t["refunded"],
        "payment_status": ps.payment_status(t),
        "authorizations": by_kind["authorization"],
        "captures": by_kind["capture"],
        "voids": by_kind["void"],
        "refunds": by_kind["refund"],
    }
