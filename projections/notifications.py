"""The notifications view: a row per notification (its channel, template, recipient, status,
attempts, the source event's position) and a row per template staff changed; the queries the
notification routes answer from. Forgetting a customer blanks their notifications' recipient."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.customer.events import CustomerForgotten
from domain.notification import events as ev
from eventstore.privacy import ERASED
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "notifications"
_COLUMNS = "id, channel, template, to_address AS to, status, attempts, source_position"


class NotificationsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in (*ev.NOTIFICATION_EVENTS, *ev.TEMPLATE_EVENTS)) + (
        CustomerForgotten.stored_name(),
    )
    ddl = """
    CREATE TABLE {schema}.notifications (id uuid PRIMARY KEY, channel text NOT NULL,
        template text NOT NULL, to_address text NOT NULL, status text NOT NULL,
        attempts int NOT NULL DEFAULT 0, source_position bigint NOT NULL,
        source_event_id text NOT NULL, customer_id uuid NOT NULL, order_id uuid,
        retry_at timestamptz, last_error text, version bigint NOT NULL,
        updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.notifications (customer_id, source_position);
    CREATE INDEX ON {schema}.notifications (order_id, source_position);
    CREATE INDEX ON {schema}.notifications (status, source_position);
    CREATE TABLE {schema}.templates (name text PRIMARY KEY, subject text NOT NULL,
        body text NOT NULL, version bigint NOT NULL, changed_at timestamptz NOT NULL,
        changed_by text NOT NULL);
    """
    comments = {
        "notifications": "One row per notification: a message to a customer by one channel.",
        "notifications.id": "The notification's stream id (from its source event and channel).",
        "notifications.channel": "email or sms.",
        "notifications.template": "The template it was rendered from (the kind of news).",
        "notifications.to_address": "The recipient's address or number (blanked on forget).",
        "notifications.status": "queued, sent, delivered or failed.",
        "notifications.attempts": "How many times it was handed to its provider.",
        "notifications.source_position": "Log position of the event it tells about.",
        "notifications.source_event_id": "Id of that event: <stream id>@<version>.",
        "notifications.customer_id": "The customer told.",
        "notifications.order_id": "The order it is about.",
        "notifications.retry_at": "When a failed one is queued again (none: failed for good).",
        "notifications.last_error": "Why its last send failed.",
        "notifications.version": "Version of its stream the row reflects.",
        "notifications.updated_at": "Business time of its last event.",
        "templates": "Templates staff changed (the others are the defaults in the code).",
        "templates.name": "The template's name.",
        "templates.subject": "Its subject line (Jinja2 text).",
        "templates.body": "Its body (Jinja2 text).",
        "templates.version": "Version of the template's stream.",
        "templates.changed_at": "When it last changed.",
        "templates.changed_by": "Who changed it.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        for e in events:
            event, at = e.to_domain(), e.meta.occurred_at
            match event:
                case ev.NotificationQueued():
                    run(
                        "INSERT INTO {}.notifications (id, channel, template, to_address, status,"
                        " source_position, source_event_id, customer_id, order_id, version,"
                        " updated_at) VALUES (%s, %s, %s, %s, 'queued', %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING",
                        e.stream_id,
                        event.channel,
                        event.template,
                        event.to,
                        event.source_position,
                        event.source_event_id,
                        event.customer_id,
                        event.order_id,
                        e.version,
                        at,
                    )
                case ev.NotificationTemplateChanged():
                    run(
                        "INSERT INTO {}.templates VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT"
                        " (name) DO UPDATE SET subject = excluded.subject, body = excluded.body,"
                        " version = excluded.version, changed_at = excluded.changed_at,"
                        " changed_by = excluded.changed_by"
                        " WHERE templates.version < excluded.version",
                        event.name,
                        event.subject,
                        event.body,
                        e.version,
                        at,
                        event.changed_by,
                    )
                case CustomerForgotten():
                    run(
                        "UPDATE {}.notifications SET to_address = %s WHERE customer_id = %s",
                        ERASED,
                        e.stream_id,
                    )
                case _:
                    self._move(run, e, event, at)

    @staticmethod
    def _move(run, e: RecordedEvent, event, at) -> None:  # noqa: ANN001
        status = {
            ev.NotificationSent: "sent",
            ev.NotificationDelivered: "delivered",
            ev.NotificationFailed: "failed",
            ev.NotificationRequeued: "queued",
        }[type(event)]
        attempts = event.attempt if isinstance(event, ev.NotificationSent) else None
        retry_at = event.retry_at if isinstance(event, ev.NotificationFailed) else None
        error = event.error if isinstance(event, ev.NotificationFailed) else None
        run(
            "UPDATE {}.notifications SET status = %s, attempts = coalesce(%s, attempts),"
            " retry_at = %s, last_error = coalesce(%s, last_error), version = %s,"
            " updated_at = %s WHERE id = %s AND version < %s",
            status,
            attempts,
            retry_at,
            error,
            e.version,
            at,
            e.stream_id,
            e.version,
        )

    def compare_key(self) -> dict[str, str]:
        return {"notifications": "id", "templates": "name"}


def _query(pool: ConnectionPool, query: str, args: Sequence[object]) -> list[dict]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(live_schema(NAME))), args)
        return cur.fetchall()


def get_notification(pool: ConnectionPool, notification_id: UUID) -> dict | None:
    rows = _query(
        pool, f"SELECT {_COLUMNS} FROM {{}}.notifications WHERE id = %s", (notification_id,)
    )
    return rows[0] if rows else None


def list_notifications(
    pool: ConnectionPool,
    *,
    customer_id: UUID | None = None,
    order_id: UUID | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict]:
    """The notifications matching every filter given, in the order of their source events."""
    where, args = [], []
    for column, value in (("customer_id", customer_id), ("order_id", order_id), ("status", status)):
        if value is not None:
            where.append(f"{column} = %s")
            args.append(value)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return _query(
        pool,
        f"SELECT {_COLUMNS} FROM {{}}.notifications {clause} "
        "ORDER BY source_position, channel LIMIT %s",
        (*args, limit),
    )


def get_template(pool: ConnectionPool, name: str) -> dict | None:
    rows = _query(pool, "SELECT subject, body, version FROM {}.templates WHERE name = %s", (name,))
    return rows[0] if rows else None
