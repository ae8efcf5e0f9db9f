"""Questions asked of the log: which events match a filter (by type, stream, correlation,
actor, business time), a page at a time in position order; and one stream's events a page
at a time. The SQL lives here; the metadata filters use the indexed expressions of migration
``033_event_metadata_columns.sql`` (each event's column, else its state parsed by the
functions of ``015_event_feed_filters.sql``), written exactly as the indexes are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

#: The metadata the filters compare, as the indexes of migration 033 compute them.
CORRELATION = "coalesce(correlation_id, event_meta(state, 'correlation_id'))"
ACTOR = "coalesce(actor, event_meta(state, 'actor'))"
OCCURRED_AT = "coalesce(occurred_at, event_occurred_at(state))"


@dataclass(frozen=True)
class EventFilter:
    """What an event must be to match: every given criterion holds (a list: any of its
    values). ``occurred_from`` is inclusive, ``occurred_to`` exclusive (business time)."""

    types: Sequence[str] = ()
    stream_types: Sequence[str] = ()
    stream_id: UUID | None = None
    correlation_id: str | None = None
    actor: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None

    def where(self) -> tuple[list[sql.Composable], list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if self.types:
            clauses.append(sql.SQL("topic = ANY(%s)"))
            params.append(list(self.types))
        if self.stream_types:
            # ``order.OrderPlaced`` is of stream type ``order``: a range of the topic index.
            ors = [sql.SQL("(topic > %s AND topic < %s)") for _ in self.stream_types]
            clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(ors)))
            for st in self.stream_types:
                params += [f"{st}.", f"{st}/"]  # '/' sorts right after '.'
        if self.stream_id is not None:
            clauses.append(sql.SQL("originator_id = %s"))
            params.append(self.stream_id)
        if self.correlation_id is not None:
            clauses.append(sql.SQL(CORRELATION + " = %s"))
            params.append(self.correlation_id)
        if self.actor is not None:
            clauses.append(sql.SQL(ACTOR + " = %s"))
            params.append(self.actor)
        if self.occurred_from is not None:
            clauses.append(sql.SQL(OCCURRED_AT + " >= %s"))
            params.append(self.occurred_from)
        if self.occurred_to is not None:
            clauses.append(sql.SQL(OCCURRED_AT + " < %s"))
            params.append(self.occurred_to)
        return clauses, params


def read_matching(
    store: EventStore, flt: EventFilter, *, after: int = 0, limit: int = 50
) -> list[RecordedEvent]:
    """Up to ``limit`` events after position ``after`` that match ``flt``, by position."""
    query, params = matching_query(store.table, flt, after=after, limit=limit)
    with store.datastore.get_connection() as conn:
        rows = conn.execute(query, params).fetchall()
    return _decode(store, rows)


def matching_query(
    table: str, flt: EventFilter, *, after: int, limit: int
) -> tuple[sql.Composed, list[Any]]:
    """The statement of ``read_matching`` and its parameters."""
    clauses, params = flt.where()
    where = sql.SQL(" AND ").join([sql.SQL("notification_id > %s"), *clauses])
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at "
        "FROM {} WHERE {} ORDER BY notification_id LIMIT %s"
    ).format(sql.Identifier(table), where)
    return query, [after, *params, limit]


def read_stream_page(
    store: EventStore, stream_id: UUID, *, after_version: int = 0, limit: int = 100
) -> list[RecordedEvent]:
    """Up to ``limit`` events of one stream after ``after_version``, by version."""
    with store.datastore.get_connection() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state, "
                "recorded_at FROM {} WHERE originator_id = %s AND originator_version > %s "
                "ORDER BY originator_version LIMIT %s"
            ).format(sql.Identifier(store.table)),
            (stream_id, after_version, limit),
        ).fetchall()
    return _decode(store, rows)


def _decode(store: EventStore, rows: list[dict[str, Any]]) -> list[RecordedEvent]:
    return store.decode_feed(rows)
