"""The tickets view: a row per ticket (status, priority, the first-response deadline and when
the clock stopped) and a row per message, folded from the typed Ticket events; ``get_ticket``
and ``list_tickets`` are its queries. Whether a ticket's first-response deadline is breached
is not stored: it depends on the moment of reading, so each query compares with its ``now``
(``domain.ticket.sla.sla_breached``; the list's filter says the same in SQL, ``BREACHED``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.ticket import events as ev
from domain.ticket.sla import sla_breached
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "tickets"
STATUS_OF = {
    ev.CustomerReplied: "open",
    ev.TicketResolved: "resolved",
    ev.TicketReopened: "open",
    ev.TicketClosed: "closed",
}
#: ``sla_breached`` in SQL, against the query's ``now``.
BREACHED = """(CASE WHEN t.responded_at IS NOT NULL THEN t.responded_at > t.first_response_due
    ELSE %(now)s > t.first_response_due END)"""


class TicketsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in ev.TICKET_EVENTS)
    ddl = """
    CREATE TABLE {schema}.tickets (id uuid PRIMARY KEY, customer_id uuid NOT NULL,
        order_id uuid, chat_id uuid, subject text NOT NULL, status text NOT NULL,
        priority text NOT NULL, opened_at timestamptz NOT NULL,
        first_response_due timestamptz NOT NULL, responded_at timestamptz,
        version bigint NOT NULL, updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.tickets (customer_id, opened_at DESC, id DESC);
    CREATE INDEX ON {schema}.tickets (status, opened_at DESC, id DESC);
    CREATE INDEX ON {schema}.tickets (first_response_due) WHERE responded_at IS NULL;
    CREATE TABLE {schema}.messages (ticket_id uuid NOT NULL, seq integer NOT NULL,
        author text NOT NULL, role text NOT NULL, text text NOT NULL,
        at timestamptz NOT NULL, PRIMARY KEY (ticket_id, seq));
    """
    comments = {
        "tickets": "One row per support ticket.",
        "tickets.id": "The ticket's stream id.",
        "tickets.customer_id": "The customer it is for.",
        "tickets.order_id": "The customer's order it is about, if any.",
        "tickets.chat_id": "The chat it was escalated from, if any.",
        "tickets.subject": "Its subject line.",
        "tickets.status": "open, pending_customer, resolved or closed.",
        "tickets.priority": "low, normal, high or urgent.",
        "tickets.opened_at": "Business time it was opened.",
        "tickets.first_response_due": "When a first agent reply is due (by priority).",
        "tickets.responded_at": "First agent reply or first resolution, whichever came first.",
        "tickets.version": "Version of the ticket's stream the row reflects.",
        "tickets.updated_at": "Business time of its last event.",
        "messages": "The messages of each ticket, in order (a transcript first, if any).",
        "messages.ticket_id": "The ticket.",
        "messages.seq": "Its place in the ticket's conversation, from 1.",
        "messages.author": "Who wrote it (the principal's id).",
        "messages.role": "customer or agent.",
        "messages.text": "What it says.",
        "messages.at": "When it was written.",
    }
    CREATE = """INSERT INTO {}.tickets VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, %s, NULL,
        0, %s) ON CONFLICT DO NOTHING"""
    MOVE = "UPDATE {}.tickets SET version = %s, updated_at = %s WHERE id = %s AND version < %s"
    STATUS = "UPDATE {}.tickets SET status = %s WHERE id = %s"
    RESPONDED = "UPDATE {}.tickets SET responded_at = coalesce(responded_at, %s) WHERE id = %s"
    MESSAGE = """INSERT INTO {0}.messages SELECT %s, coalesce(max(seq), 0) + 1, %s, %s, %s, %s
        FROM {0}.messages WHERE ticket_id = %s"""

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        for e in events:
            event, at, ticket = e.to_domain(), e.meta.occurred_at, e.stream_id
            if isinstance(event, ev.TicketOpened):
                run(self.CREATE, ticket, event.customer_id, event.order_id, event.chat_id,
                    event.subject, event.priority, event.opened_at, event.first_response_due,
                    at)  # fmt: skip
            if not run(self.MOVE, e.version, at, ticket, e.version):
                continue
            for m in _messages(event):
                run(self.MESSAGE, ticket, m.author, m.role, m.text, m.at, ticket)
            match event:
                case ev.AgentReplied(message=m, awaiting_customer=waiting):
                    run(self.RESPONDED, m.at, ticket)
                    if waiting:
                        run(self.STATUS, "pending_customer", ticket)
                case ev.TicketResolved(resolved_at=resolved_at):
                    run(self.RESPONDED, resolved_at, ticket)
            if type(event) in STATUS_OF:
                run(self.STATUS, STATUS_OF[type(event)], ticket)

    def compare_key(self) -> dict[str, str]:
        return {"tickets": "id", "messages": "ticket_id, seq"}


def _messages(event: Any) -> list:
    if isinstance(event, ev.TicketOpened):
        return list(event.messages)
    if isinstance(event, ev.AgentReplied | ev.CustomerReplied):
        return [event.message]
    return []


_COLUMNS = """t.id, t.status, t.priority, t.customer_id, t.order_id, t.chat_id, t.subject,
    t.opened_at, t.first_response_due, t.responded_at, t.version"""


def _shown(row: dict, now: datetime) -> dict:
    responded = row.pop("responded_at")
    row["sla_breached"] = sla_breached(row["first_response_due"], responded, now)
    return row


def get_ticket(pool: ConnectionPool, ticket_id: UUID, now: datetime) -> dict | None:
    """The ticket with its messages in order and whether its SLA is breached at ``now``."""
    query = f"""SELECT {_COLUMNS}, coalesce((SELECT json_agg(json_build_object('author',
        m.author, 'role', m.role, 'text', m.text, 'at', m.at) ORDER BY m.seq)
        FROM {{0}}.messages m WHERE m.ticket_id = t.id), '[]') AS messages
        FROM {{0}}.tickets t WHERE t.id = %s"""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(live_schema(NAME))), (ticket_id,))
        row = cur.fetchone()
    return None if row is None else _shown(row, now)


def list_tickets(
    pool: ConnectionPool,
    now: datetime,
    *,
    status: str | None = None,
    customer_id: UUID | None = None,
    breached: bool | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict]:
    """Tickets newest first (``after``: the last row's ``(opened_at, id)`` of a page), each
    without its messages, filtered by status, customer and breach at ``now``."""
    where, args = ["true"], {"now": now, "limit": limit}
    if status is not None:
        where.append("t.status = %(status)s")
        args["status"] = status
    if customer_id is not None:
        where.append("t.customer_id = %(customer)s")
        args["customer"] = customer_id
    if breached is not None:
        where.append(f"{BREACHED} = %(breached)s")
        args["breached"] = breached
    if after is not None:
        where.append("(t.opened_at, t.id) < (%(after_at)s::timestamptz, %(after_id)s::uuid)")
        args["after_at"], args["after_id"] = after
    query = f"""SELECT {_COLUMNS} FROM {{0}}.tickets t WHERE {" AND ".join(where)}
        ORDER BY t.opened_at DESC, t.id DESC LIMIT %(limit)s"""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(live_schema(NAME))), args)
        return [_shown(row, now) for row in cur.fetchall()]
