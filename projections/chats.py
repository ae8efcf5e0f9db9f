"""The chats view: a row per chat and a row per message (its sequence number is its event's
stream version), folded from the typed Chat events; ``chat_exists``, ``messages_after`` and
``messages_after_async`` are its queries.

Live readers (``GET /chats/{id}/stream``) learn of new messages from a ``NOTIFY`` on
``CHANNEL`` (payload: the chat's id) that ``apply`` issues in the live view's transaction:
PostgreSQL delivers it when that transaction commits, so a woken reader always finds the
rows. A rebuild (another schema) notifies nobody."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from domain.chat import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "chats"
CHANNEL = "ecom_chat_messages"
PAGE = 200


class ChatsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in ev.CHAT_EVENTS)
    ddl = """
    CREATE TABLE {schema}.chats (id uuid PRIMARY KEY, customer_id uuid NOT NULL,
        order_id uuid, ticket_id uuid, started_at timestamptz NOT NULL,
        version bigint NOT NULL);
    CREATE INDEX ON {schema}.chats (customer_id);
    CREATE TABLE {schema}.messages (chat_id uuid NOT NULL, seq bigint NOT NULL,
        author text NOT NULL, role text NOT NULL, text text NOT NULL,
        at timestamptz NOT NULL, PRIMARY KEY (chat_id, seq));
    """
    comments = {
        "chats": "One row per live chat.",
        "chats.id": "The chat's stream id.",
        "chats.customer_id": "The customer chatting.",
        "chats.order_id": "The customer's order it is about, if any.",
        "chats.ticket_id": "The ticket it was escalated to, if it was.",
        "chats.started_at": "Business time it was started.",
        "chats.version": "Version of the chat's stream the row reflects.",
        "messages": "The messages of each chat.",
        "messages.chat_id": "The chat.",
        "messages.seq": "Its sequence number: the stream version of its event.",
        "messages.author": "Who wrote it (the principal's id).",
        "messages.role": "customer or agent.",
        "messages.text": "What it says.",
        "messages.at": "When it was written.",
    }
    CREATE = "INSERT INTO {}.chats VALUES (%s, %s, %s, NULL, %s, 0) ON CONFLICT DO NOTHING"
    MOVE = "UPDATE {}.chats SET version = %s WHERE id = %s AND version < %s"
    MESSAGE = "INSERT INTO {}.messages VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ESCALATED = "UPDATE {}.chats SET ticket_id = %s WHERE id = %s"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        posted: dict[UUID, None] = {}
        for e in events:
            event, chat = e.to_domain(), e.stream_id
            if isinstance(event, ev.ChatStarted):
                run(self.CREATE, chat, event.customer_id, event.order_id, event.started_at)
            if not run(self.MOVE, e.version, chat, e.version):
                continue
            match event:
                case ev.ChatMessagePosted(message=m):
                    run(self.MESSAGE, chat, e.version, m.author, m.role, m.text, m.at)
                    posted[chat] = None
                case ev.ChatEscalated(ticket_id=ticket_id):
                    run(self.ESCALATED, ticket_id, chat)
                    posted[chat] = None  # a live reader learns the chat has moved on
        if schema == live_schema(NAME):
            for chat in posted:
                cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(chat)))

    def compare_key(self) -> dict[str, str]:
        return {"chats": "id", "messages": "chat_id, seq"}


_CHAT = "SELECT id, customer_id, order_id, ticket_id, version FROM {}.chats WHERE id = %s"
_AFTER = """SELECT seq, author, role, text, at FROM {}.messages
    WHERE chat_id = %s AND seq > %s ORDER BY seq LIMIT %s"""


def get_chat(pool: ConnectionPool, chat_id: UUID) -> dict | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(_CHAT).format(sql.Identifier(live_schema(NAME))), (chat_id,))
        return cur.fetchone()


def messages_after(
    pool: ConnectionPool, chat_id: UUID, after: int = 0, limit: int = PAGE
) -> list[dict]:
    """The chat's messages with a sequence number above ``after``, in order."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(_AFTER).format(sql.Identifier(live_schema(NAME))), (chat_id, after, limit)
        )
        return cur.fetchall()


async def chat_async(pool: AsyncConnectionPool, chat_id: UUID) -> dict | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql.SQL(_CHAT).format(sql.Identifier(live_schema(NAME))), (chat_id,))
        return await cur.fetchone()


async def messages_after_async(
    pool: AsyncConnectionPool, chat_id: UUID, after: int, limit: int = PAGE
) -> list[dict]:
    """``messages_after`` for a live stream, on the event loop."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            sql.SQL(_AFTER).format(sql.Identifier(live_schema(NAME))), (chat_id, after, limit)
        )
        return await cur.fetchall()
