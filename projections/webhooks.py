"""The webhooks view: one row per webhook (its URL, event types, secret generation and
status), folded from the typed Webhook events; ``list_webhooks`` and ``get_webhook`` are its
queries. The secrets are in no table (``commands/webhook_secrets.py``); the deliveries are
operational state in ``webhook_deliveries`` (``commands/webhook_deliveries.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.webhook import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "webhooks"
COLUMNS = """id, url, event_types, description, status, secret_generation, previous_secret_until,
    created_at, updated_at, version"""


class WebhooksView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in ev.WEBHOOK_EVENTS)
    ddl = """
    CREATE TABLE {schema}.webhooks (id uuid PRIMARY KEY, url text NOT NULL,
        event_types text[] NOT NULL, description text, status text NOT NULL,
        secret_generation integer NOT NULL, previous_secret_until timestamptz,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
        version bigint NOT NULL);
    """
    comments = {
        "webhooks": "One row per webhook: an HTTP endpoint subscribed to event types.",
        "webhooks.id": "The webhook's stream id.",
        "webhooks.url": "The endpoint deliveries are POSTed to.",
        "webhooks.event_types": "The stored event names it receives.",
        "webhooks.description": "What the operator said it is for.",
        "webhooks.status": "active or deleted.",
        "webhooks.secret_generation": "How often its secret was rotated (the secret is derived).",
        "webhooks.previous_secret_until": "Until when the previous secret signs too.",
        "webhooks.created_at": "Business time of its registration.",
        "webhooks.updated_at": "Business time of its last event.",
        "webhooks.version": "Version of the webhook's stream the row reflects.",
    }
    CREATE = """INSERT INTO {}.webhooks VALUES (%s, %s, %s, %s, 'active', 0, NULL, %s, %s, %s)
        ON CONFLICT DO NOTHING"""
    ROTATE = """UPDATE {}.webhooks SET secret_generation = %s, previous_secret_until = %s,
        updated_at = %s, version = %s WHERE id = %s AND version < %s"""
    DELETE = """UPDATE {}.webhooks SET status = 'deleted', updated_at = %s, version = %s
        WHERE id = %s AND version < %s"""

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> None:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)

        for e in events:
            event, at, stream, v = e.to_domain(), e.meta.occurred_at, e.stream_id, e.version
            match event:
                case ev.WebhookRegistered(url=url, event_types=types, description=text):
                    run(self.CREATE, stream, url, list(types), text, at, at, v)
                case ev.WebhookSecretRotated(generation=g, previous_valid_until=until):
                    run(self.ROTATE, g, until, at, v, stream, v)
                case ev.WebhookDeleted():
                    run(self.DELETE, at, v, stream, v)

    def compare_key(self) -> dict[str, str]:
        return {"webhooks": "id"}


def _query(pool: ConnectionPool, where: str, params: Sequence[object]) -> list[dict]:
    query = sql.SQL(f"SELECT {COLUMNS} FROM {{}}.webhooks {where}").format(
        sql.Identifier(live_schema(NAME))
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def list_webhooks(pool: ConnectionPool, *, include_deleted: bool = False) -> list[dict]:
    """The webhooks, oldest first (the active ones unless ``include_deleted``)."""
    where = "" if include_deleted else "WHERE status = 'active'"
    return _query(pool, f"{where} ORDER BY created_at, id", ())


def get_webhook(pool: ConnectionPool, webhook_id: UUID) -> dict | None:
    found = _query(pool, "WHERE id = %s", (webhook_id,))
    return found[0] if found else None
