"""``EventStore``: append decided events to one or more streams atomically, read a stream,
read the global feed. Storage errors become domain errors here. Within a stream an event's
``occurred_at`` never precedes the one before it (``StreamAppend.not_before``)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from psycopg import sql

from domain.errors import ConcurrencyConflict, IdempotencyKeyReused
from domain.events import DomainEvent
from eventstore.group_commit import GroupCommitter, KeyTaken, NewKeyTaken, StreamConflict
from eventstore.mapper import EventMapper, PersonalWrites
from eventstore.recorded import EventMeta, RecordedEvent
from eventstore.recorder import IDEMPOTENCY_TABLE, EcomRecorder, IdempotencyRecord
from eventstore.topic_ranges import topic_ranges


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, to be written only if the stream is at ``expected_version``."""

    stream_id: UUID
    expected_version: int
    events: Sequence[DomainEvent]
    #: Each event's own metadata, when the events of one transaction answer different
    #: commands (a batch of orders, each with its own correlation id); else the call's.
    metas: Sequence[EventMeta] | None = None
    #: When the stream's event at ``expected_version`` occurred (None for a new stream): no
    #: event appended after it is stamped earlier (``EventMeta.not_before``). The decider
    #: knows it from its load; optimistic concurrency makes it hold, since an append after
    #: a stream moved fails and is decided again on fresh state.
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredIdempotentResult:
    stream_id: UUID
    version: int
    position: int
    result: dict[str, Any]


#: The key of a record's ``result`` that keeps the first HTTP answer given under the key.
RESPONSE_FIELD = "http_response"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer given under an idempotency key, replayed verbatim."""

    status: int
    content_type: str
    body: bytes


FEED_COLUMNS = "notification_id, originator_id, originator_version, topic, state, recorded_at"

#: The events of streams after given versions (parameters: the stream ids, the versions), in
#: the feed's columns (no position, no ``recorded_at``). One index probe per stream: LATERAL
#: with OFFSET 0 is not flattened into a merge join, which would scan the whole table; each
#: stream's rows in version order.
_TAILS = (
    "SELECT NULL::bigint AS notification_id, e.originator_id, e.originator_version, e.topic, "
    "e.state, NULL::timestamptz AS recorded_at "
    "FROM unnest(%s::uuid[], %s::bigint[]) AS c(id, after) "
    "CROSS JOIN LATERAL (SELECT originator_id, originator_version, topic, state "
    "FROM {table} s WHERE s.originator_id = c.id "
    "AND s.originator_version > c.after ORDER BY s.originator_version OFFSET 0) e"
)

#: Order numbers a process takes from the sequence at once (``EventStore.next_order_number``).
ORDER_NUMBER_BLOCK = 32


class IdempotencyKeyTaken(Exception):
    """A concurrent request with the same key committed first."""


class DataKeyTaken(Exception):
    """A new customer's key, made by this writer, lost to a key another writer made first."""

    def __init__(self, subjects: list[str]):
        super().__init__(subjects)
        self.subjects = subjects


class EventStore:
    def __init__(self, recorder: EcomRecorder, mapper: EventMapper):
        self.recorder = recorder
        self.mapper = mapper
        self.datastore = recorder.datastore
        self.table = recorder.events_table_name
        self.committer = GroupCommitter(recorder)
        self._numbers: deque[int] = deque()
        self._numbers_lock = threading.Lock()
        self._queries: dict[tuple[str, ...], bytes] = {}

    # ---- writing -------------------------------------------------------------------------

    def append(
        self,
        appends: Sequence[StreamAppend],
        meta: EventMeta,
        idempotency: IdempotencyRecord | None = None,
    ) -> int:
        """Write all events of all streams in one transaction; return the last position.
        What their personal data needs (a stream's link to its owner, a new customer's key)
        goes in with them when it can (``eventstore/privacy.py``); a new key another writer
        beat is given up, and the events encrypted again under the key there is."""
        try:
            return self._append(appends, meta, idempotency)
        except DataKeyTaken as taken:
            self.mapper.keyring.refused(taken.subjects)
            return self._append(appends, meta, idempotency)

    def _append(
        self,
        appends: Sequence[StreamAppend],
        meta: EventMeta,
        idempotency: IdempotencyRecord | None,
    ) -> int:
        stored = []
        personal = PersonalWrites()
        for a in appends:
            last = a.not_before
            for i, event in enumerate(a.events, start=1):
                stamp = (a.metas[i - 1] if a.metas else meta).not_before(last)
                last = stamp.occurred_at
                stored.append(
                    self.mapper.to_stored(
                        a.stream_id, a.expected_version + i, event, stamp, personal
                    )
                )
        if not stored:
            raise ValueError("append() needs at least one event")
        expectations = [(a.stream_id, a.expected_version, len(a.events)) for a in appends]
        new_keys = [(UUID(subject), key) for subject, key in personal.keys.items()]
        try:
            positions = self.committer.insert(
                stored, expectations, idempotency, personal.links, new_keys
            )
        except KeyTaken:
            raise IdempotencyKeyTaken() from None
        except StreamConflict:
            raise ConcurrencyConflict(
                "Another change was written to this stream first; read it and try again."
            ) from None
        except NewKeyTaken:
            raise DataKeyTaken(list(personal.keys)) from None
        assert positions
        if personal.links or personal.keys:
            self.mapper.written(personal)
        return max(positions)

    # ---- reading -------------------------------------------------------------------------

    def load(self, stream_id: UUID, *, up_to_version: int | None = None) -> list[RecordedEvent]:
        rows = self.recorder.select_events(stream_id, lte=up_to_version)
        return self.mapper.to_recorded_many(
            [(None, r.originator_id, r.originator_version, r.topic, r.state) for r in rows]
        )

    def load_many(self, after: dict[UUID, int]) -> dict[UUID, list[RecordedEvent]]:
        """The events of many streams in one query: for each stream, those after the version
        given (0 for all), in version order."""
        if not after:
            return {}
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                _TAILS.format(table=self.table), (list(after), list(after.values()))
            ).fetchall()
        return self._tails(after, rows)

    def _tails(
        self, after: dict[UUID, int], rows: Sequence[dict[str, Any]]
    ) -> dict[UUID, list[RecordedEvent]]:
        """Rows of ``_TAILS`` as each stream's events (every stream of ``after`` present), in
        version order."""
        tails: dict[UUID, list[RecordedEvent]] = {stream_id: [] for stream_id in after}
        decoded = self.mapper.to_recorded_many(
            [
                (None, r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in rows
            ]
        )
        for event in decoded:
            tails[event.stream_id].append(event)
        for events in tails.values():
            events.sort(key=lambda e: e.version)
        return tails

    def load_many_and_topics(
        self,
        after: dict[UUID, int],
        topics_after: Mapping[str, int],
        limit: int,
        keys_of: Sequence[UUID] = (),
    ) -> tuple[dict[UUID, list[RecordedEvent]], list[RecordedEvent]]:
        """``load_many(after)`` and ``read_topics(topics_after, limit)`` in one statement (one
        round trip, one snapshot): a placement reads its customer's and products' tails and
        the write-side directories' new events together. With ``keys_of``, the same statement
        fetches those customers' data keys into the key ring (``eventstore/privacy.py``): an
        order's events for a returning customer then need no key lookup of their own."""
        if not topics_after:
            return self.load_many(after), []
        if not after:
            return {}, self.read_topics(topics_after, limit)
        topics = sorted(topics_after)
        keyring = self.mapper.keyring
        keys_of = list(keys_of) if keyring is not None else []
        params: list[Any] = [list(after), list(after.values())]
        params += [v for t in topics for v in (topics_after[t], limit)] + [limit * len(topics)]
        what = "tails+topics"
        if keys_of:
            params.append(keys_of)
            what = "tails+topics+keys"
        with self.datastore.get_connection() as conn:
            query = self._rendered((what, *topics), self._tails_and_topics, conn)
            rows = conn.execute(query, params, prepare=True).fetchall()
        if keys_of:
            assert keyring is not None
            keyring.found(
                {
                    str(r["originator_id"]): None if r["state"] is None else bytes(r["state"])
                    for r in rows
                    if r["originator_version"] is None
                },
                asked=[str(c) for c in keys_of],
            )
            rows = [r for r in rows if r["originator_version"] is not None]
        tails = self._tails(after, [r for r in rows if r["notification_id"] is None])
        feed_rows = sorted(
            (r for r in rows if r["notification_id"] is not None),
            key=lambda r: r["notification_id"],
        )
        return tails, self.decode_feed(feed_rows)

    def _tails_and_topics(self, what: str, *topics: str) -> sql.Composed:
        """Tails (no position), then the topics' events; with keys, the customers' data keys
        as rows of their own (no version; the key in ``state``)."""
        keys = sql.SQL(
            " UNION ALL (SELECT NULL::bigint, customer_id, NULL::bigint, NULL::text, key, "
            "NULL::timestamptz FROM customer_keys WHERE customer_id = ANY(%s::uuid[]))"
            if what.endswith("+keys")
            else ""
        )
        return sql.SQL("(" + _TAILS + ") UNION ALL ({ranges}){keys}").format(
            table=sql.SQL(self.table),
            ranges=topic_ranges(self.table, FEED_COLUMNS, topics),
            keys=keys,
        )

    def _topics(self, _what: str, *topics: str) -> sql.Composed:
        return topic_ranges(self.table, FEED_COLUMNS, topics)

    def _rendered(
        self, key: tuple[str, ...], build: Callable[..., sql.Composed], conn: Any
    ) -> bytes:
        """The statement ``build(*key)``, rendered once for this store: composing it again
        and rendering it to bytes on every call cost a placement more than dumping its
        parameters."""
        query = self._queries.get(key)
        if query is None:
            if len(self._queries) >= 256:
                self._queries.clear()
            query = self._queries[key] = build(*key).as_bytes(conn)
        return query

    def load_with_positions(self, stream_id: UUID) -> list[RecordedEvent]:
        """One stream's events with their positions and ``recorded_at`` (the log routes)."""
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state, "
                f"recorded_at FROM {self.table} WHERE originator_id = %s "
                "ORDER BY originator_version",
                (stream_id,),
            ).fetchall()
        return self.decode_feed(rows)

    def read_all(
        self, after: int = 0, limit: int = 100, topics: Sequence[str] = ()
    ) -> list[RecordedEvent]:
        """The global feed after ``after``, with each event's ``recorded_at`` (the read models'
        runner reads the log its own way and never pays for that column).

        With ``topics``, each topic's events are read from the (topic, position) index, one
        range per topic, and merged (``eventstore/topic_ranges.py``): a write-side directory
        asks this before every decision, mostly to find nothing new, and a topic the planner
        does not know may be read as a walk of the whole log from ``after``."""
        columns = "notification_id, originator_id, originator_version, topic, state, recorded_at"
        query: Any
        if topics:
            asked = sorted(set(topics))
            query = topic_ranges(self.table, columns, asked)
            params: list[Any] = [v for _ in asked for v in (after, limit)] + [limit]
        else:
            query = (
                f"SELECT {columns} FROM {self.table} WHERE notification_id > %s "
                f"ORDER BY notification_id LIMIT %s"
            )
            params = [after, limit]
        with self.datastore.get_connection() as conn:
            rows = conn.execute(query, params, prepare=True).fetchall()
        return self.decode_feed(rows)

    def read_topics(self, after: Mapping[str, int], limit: int = 100) -> list[RecordedEvent]:
        """For each topic, its first ``limit`` events after the position given for it (one
        range of the (topic, position) index each, all in one query:
        ``eventstore/topic_ranges.py``), in position order, each
        with its ``recorded_at``: the write-side directories' refresh (``commands/
        directory_feed.py``). A topic that gave ``limit`` events may have more."""
        if not after:
            return []
        topics = sorted(after)
        params = [v for t in topics for v in (after[t], limit)] + [limit * len(topics)]
        with self.datastore.get_connection() as conn:
            query = self._rendered(("topics", *topics), self._topics, conn)
            rows = conn.execute(query, params, prepare=True)
            return self.decode_feed(rows.fetchall())

    def decode_feed(self, rows: Sequence[dict[str, Any]]) -> list[RecordedEvent]:
        """Rows of ``notification_id, originator_id, originator_version, topic, state,
        recorded_at`` as events carrying their ``recorded_at`` (what the log routes show)."""
        decoded = self.mapper.to_recorded_many(
            [
                (
                    r["notification_id"],
                    r["originator_id"],
                    r["originator_version"],
                    r["topic"],
                    r["state"],
                )
                for r in rows
            ]
        )
        return [
            e._replace(recorded_at=r["recorded_at"]) if r["recorded_at"] is not None else e
            for e, r in zip(decoded, rows, strict=True)
        ]

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def start_of_last(self, count: int) -> int:
        """The position after which the last ``count`` events lie (positions have gaps: a
        transaction that rolled back used some)."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT coalesce(min(notification_id) - 1, 0) AS start FROM (SELECT "
                f"notification_id FROM {self.table} ORDER BY notification_id DESC LIMIT %s) t",
                (count,),
            ).fetchone()
        return int(row["start"]) if row is not None else 0

    def position_of(self, stream_id: UUID, version: int) -> int | None:
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT notification_id FROM {self.table} "
                "WHERE originator_id = %s AND originator_version = %s",
                (stream_id, version),
            ).fetchone()
        return None if row is None else row["notification_id"]

    def stream_version(self, stream_id: UUID) -> int:
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT max(originator_version) AS v FROM {self.table} WHERE originator_id = %s",
                (stream_id,),
            ).fetchone()
        return (row and row["v"]) or 0

    def next_order_number(self) -> int:
        """The next order number this process hands out: numbers are taken from the sequence
        ``ORDER_NUMBER_BLOCK`` at a time (one round trip a block, not one an order), so they
        are unique and grow within a process; processes interleave, and the rest of a block
        is skipped when the process stops (a sequence has gaps anyway: a rolled-back
        placement leaves one too)."""
        with self._numbers_lock:
            if not self._numbers:
                with self.datastore.get_connection() as conn:
                    rows = conn.execute(
                        "SELECT nextval('order_number_seq') AS n FROM generate_series(1, %s)",
                        (ORDER_NUMBER_BLOCK,),
                    ).fetchall()
                self._numbers.extend(sorted(int(r["n"]) for r in rows))
            return self._numbers.popleft()

    # ---- idempotency ---------------------------------------------------------------------

    def remember(self, record: IdempotencyRecord) -> bool:
        """Keep a key's result for a request that wrote no event; False if the key was taken."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"INSERT INTO {IDEMPOTENCY_TABLE} "
                "(principal, key, request_hash, stream_id, version, result) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1 AS kept",
                (
                    record.principal,
                    record.key,
                    record.request_hash,
                    record.stream_id,
                    record.version,
                    orjson.dumps(record.result).decode(),
                ),
            ).fetchone()
        return row is not None

    def find_idempotent_result(
        self, principal: str, key: str, request_hash: str
    ) -> StoredIdempotentResult | None:
        """The stored result for this key, or None; a different request under it is refused."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT k.request_hash, k.stream_id, k.version, k.result, e.notification_id "
                f"FROM {IDEMPOTENCY_TABLE} k LEFT JOIN {self.table} e "
                "ON e.originator_id = k.stream_id AND e.originator_version = k.version "
                "WHERE k.principal = %s AND k.key = %s",
                (principal, key),
            ).fetchone()
        if row is None:
            return None
        if row["request_hash"] != request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request.",
                details={"key": key},
            )
        result = row["result"]
        if isinstance(result, (str, bytes)):
            result = orjson.loads(result)
        result = {k: v for k, v in result.items() if k != RESPONSE_FIELD}
        return StoredIdempotentResult(
            stream_id=row["stream_id"],
            version=row["version"],
            position=row["notification_id"] or 0,
            result=result,
        )

    def stored_response(self, principal: str, key: str, request_hash: str) -> StoredResponse | None:
        """The first answer kept under this key for this very request, if any."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT result -> '{RESPONSE_FIELD}' AS r FROM {IDEMPOTENCY_TABLE} "
                "WHERE principal = %s AND key = %s AND request_hash = %s",
                (principal, key, request_hash),
            ).fetchone()
        return _response(row["r"]) if row is not None else None

    def keep_response(
        self, principal: str, key: str, request_hash: str, answer: StoredResponse
    ) -> StoredResponse | None:
        """Keep ``answer`` as the key's first answer, unless one is kept already; return the
        answer that is kept (None when the key holds no record for this request: the command
        took no key, so there is nothing to replay)."""
        kept = {
            "status": answer.status,
            "content_type": answer.content_type,
            "body": answer.body.decode(),
        }
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                f"UPDATE {IDEMPOTENCY_TABLE} SET result = result || %s::jsonb "
                "WHERE principal = %s AND key = %s AND request_hash = %s "
                f"AND NOT result ? '{RESPONSE_FIELD}' RETURNING 1 AS kept",
                (orjson.dumps({RESPONSE_FIELD: kept}).decode(), principal, key, request_hash),
            ).fetchone()
        if row is not None:
            return answer
        return self.stored_response(principal, key, request_hash)


def _response(value: Any) -> StoredResponse | None:
    if isinstance(value, (str, bytes)):
        value = orjson.loads(value)
    if not value:
        return None
    return StoredResponse(value["status"], value["content_type"], value["body"].encode())
