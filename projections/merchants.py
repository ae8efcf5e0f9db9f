"""The merchants view: a row per merchant (status, commission rate) and the history of its
commission rate and of its status, folded from the typed Merchant events; ``get_merchant`` and
``list_merchants`` are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.merchant import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "merchants"


class MerchantsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in ev.MERCHANT_EVENTS)
    ddl = """
    CREATE TABLE {schema}.merchants (id uuid PRIMARY KEY, name text NOT NULL,
        email text NOT NULL, country text NOT NULL, status text NOT NULL,
        commission_percent numeric NOT NULL, version bigint NOT NULL,
        registered_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE {schema}.commission_history (merchant_id uuid NOT NULL, version bigint NOT NULL,
        percent numeric NOT NULL, changed_at timestamptz NOT NULL, changed_by text NOT NULL,
        reason text, PRIMARY KEY (merchant_id, version));
    CREATE TABLE {schema}.status_history (merchant_id uuid NOT NULL, version bigint NOT NULL,
        status text NOT NULL, previous text, changed_at timestamptz NOT NULL,
        changed_by text NOT NULL, reason text, PRIMARY KEY (merchant_id, version));
    """
    comments = {
        "merchants": "One row per marketplace merchant.",
        "merchants.id": "The merchant's stream id.",
        "merchants.name": "Its business name.",
        "merchants.email": "Its contact address.",
        "merchants.country": "Its country (ISO 3166-1 alpha-2).",
        "merchants.status": "applied, under_review, approved, rejected or suspended.",
        "merchants.commission_percent": "The commission rate in force now, 0 to 100.",
        "merchants.version": "Version of the merchant's stream the row reflects.",
        "merchants.registered_at": "Business time of its registration.",
        "merchants.updated_at": "Business time of its last event.",
        "commission_history": "Every commission rate a merchant had, from registration on.",
        "commission_history.merchant_id": "The merchant.",
        "commission_history.version": "Stream version of the event that set the rate.",
        "commission_history.percent": "The rate from then on.",
        "commission_history.changed_at": "Business time it took effect.",
        "commission_history.changed_by": "Who set it.",
        "commission_history.reason": "Why (none at registration).",
        "status_history": "Every status a merchant had, from registration on.",
        "status_history.merchant_id": "The merchant.",
        "status_history.version": "Stream version of the event that set the status.",
        "status_history.status": "The status from then on.",
        "status_history.previous": "The status before (none at registration).",
        "status_history.changed_at": "Business time of the change.",
        "status_history.changed_by": "Who changed it.",
        "status_history.reason": "Why, if given.",
    }
    CREATE = """INSERT INTO {}.merchants VALUES (%s, %s, %s, %s, 'applied', %s, 0, %s, %s)
        ON CONFLICT DO NOTHING"""
    #: Every event moves the row's version; an event at or below it was applied already.
    MOVE = "UPDATE {}.merchants SET version = %s, updated_at = %s WHERE id = %s AND version < %s"
    STATUS = "UPDATE {}.merchants SET status = %s WHERE id = %s"
    RATE = "UPDATE {}.merchants SET commission_percent = %s WHERE id = %s"
    RATE_HISTORY = "INSERT INTO {}.commission_history VALUES (%s, %s, %s, %s, %s, %s)"
    STATUS_HISTORY = "INSERT INTO {}.status_history VALUES (%s, %s, %s, %s, %s, %s, %s)"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        for e in events:
            event, at, stream, v = e.to_domain(), e.meta.occurred_at, e.stream_id, e.version
            if isinstance(event, ev.MerchantRegistered):
                run(
                    self.CREATE, stream, event.name, event.email, event.country,
                    event.commission_percent, at, at,
                )  # fmt: skip
            if not run(self.MOVE, v, at, stream, v):
                continue
            match event:
                case ev.MerchantRegistered():
                    rate = (event.commission_percent, event.registered_by, None)
                    run(self.RATE_HISTORY, stream, v, rate[0], at, rate[1], rate[2])
                    run(
                        self.STATUS_HISTORY,
                        stream,
                        v,
                        "applied",
                        None,
                        at,
                        event.registered_by,
                        None,
                    )
                case ev.CommissionChanged():
                    run(self.RATE, event.new_percent, stream)
                    run(
                        self.RATE_HISTORY,
                        stream,
                        v,
                        event.new_percent,
                        at,
                        event.changed_by,
                        event.reason,
                    )
                case ev.MerchantStatusChanged():
                    status = ev.STATUS_AFTER[type(event)]
                    run(self.STATUS, status, stream)
                    run(
                        self.STATUS_HISTORY, stream, v, status, event.previous, at,
                        event.changed_by, event.reason,
                    )  # fmt: skip

    def compare_key(self) -> dict[str, str]:
        return {
            "merchants": "id",
            "commission_history": "merchant_id, version",
            "status_history": "merchant_id, version",
        }


_SELECT = """SELECT m.id, m.name, m.email, m.country, m.status, m.commission_percent, m.version,
    m.registered_at, m.updated_at,
    ARRAY(SELECT jsonb_build_object('percent', h.percent::text, 'changed_at', h.changed_at,
        'changed_by', h.changed_by, 'reason', h.reason)
        FROM {0}.commission_history h WHERE h.merchant_id = m.id ORDER BY h.version)
        AS commission_history,
    ARRAY(SELECT jsonb_build_object('status', s.status, 'previous', s.previous,
        'changed_at', s.changed_at, 'changed_by', s.changed_by, 'reason', s.reason)
        FROM {0}.status_history s WHERE s.merchant_id = m.id ORDER BY s.version)
        AS status_history
    FROM {0}.merchants m"""


def get_merchant(pool: ConnectionPool, merchant_id: UUID) -> dict | None:
    query = sql.SQL(_SELECT + " WHERE m.id = %s").format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (merchant_id,))
        return cur.fetchone()


def list_merchants(
    pool: ConnectionPool, *, status: str | None, after: UUID | None, limit: int
) -> list[dict]:
    """Merchants by id, after ``after``, of ``status`` when given; ``limit`` rows at most."""
    where, args = ["TRUE"], []
    if status is not None:
        where.append("m.status = %s")
        args.append(status)
    if after is not None:
        where.append("m.id > %s")
        args.append(after)
    text = _SELECT + " WHERE " + " AND ".join(where) + " ORDER BY m.id LIMIT %s"
    query = sql.SQL(text).format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (*args, limit))
        return cur.fetchall()
