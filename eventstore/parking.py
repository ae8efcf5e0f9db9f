"""The parking lot: where a follower of the log puts an event it cannot handle, so that one
event never stalls it (table ``parked_events``, migration 011).

An event that still fails after the follower's retries is parked with the follower's name, its
position, stream, version and type, the error and the number of tries, and an ``ALERT`` is
logged once on ``ecom.alerts``. Every later event of the same stream that reaches the follower
is parked *behind* it (``behind`` = the first one's id) instead of being handled, so no
follower ever applies a stream out of order (a sequenced dead-letter queue, as in Axon). The
follower moves on with every other stream.

Operators (``ecom projections parked|retry|skip`` and the admin endpoints under
``/projections/parked``):

- **retry** re-handles a parked stream in order, first event first, and clears each event that
  succeeds; the first that fails again stays parked (its error and tries updated) with the rest
  behind it. A follower that runs in this process registers a ``retrier`` that does it at once,
  under the follower's lock; for the others (the Kafka relay, its own process) the rows are
  marked ``retry_requested_at`` and the follower does it on its next turn.
- **skip** drops one parked event (an operator's decision, logged on ``ecom.alerts``) and
  releases the ones behind it: they are retried at once.

The API is not specific to the event store's followers: anything that handles events one
stream at a time (a Kafka consumer, say) can park in it under its own follower name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg.rows import class_row, tuple_row

log = logging.getLogger(__name__)
alerts = logging.getLogger("ecom.alerts")
MAX_ERROR_CHARS = 4000


class EventRef(NamedTuple):
    """What the parking lot keeps of an event (a ``RecordedEvent`` is one too, by its fields)."""

    position: int
    stream_id: UUID
    version: int
    type: str


def ref_of(event: Any) -> EventRef:
    return EventRef(event.position, event.stream_id, event.version, event.type)


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    follower: str
    position: int
    stream_id: UUID
    stream_version: int
    event_type: str
    error: str
    attempts: int
    behind: int | None
    retry_requested_at: datetime | None
    parked_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "follower": self.follower,
            "position": self.position,
            "stream_id": str(self.stream_id),
            "stream_version": self.stream_version,
            "event_type": self.event_type,
            "error": self.error,
            "attempts": self.attempts,
            "behind": self.behind,
            "retry_requested": self.retry_requested_at is not None,
            "parked_at": self.parked_at.isoformat(),
        }


@dataclass(frozen=True)
class RetryOutcome:
    """What a retry did to one parked stream: events handled and cleared, events still parked,
    and whether it was only requested (the follower runs elsewhere and will do it)."""

    follower: str
    stream_id: UUID
    applied: int
    still_parked: int
    requested: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "follower": self.follower,
            "stream_id": str(self.stream_id),
            "applied": self.applied,
            "still_parked": self.still_parked,
            "requested": self.requested,
        }


#: A follower's retry of one parked stream: (follower, stream) -> (applied, still parked).
Retrier = Callable[[str, UUID], tuple[int, int]]
_COLUMNS = (
    "id, follower, position, stream_id, stream_version, event_type, error, attempts, behind, "
    "retry_requested_at, parked_at"
)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


class ParkingLot:
    def __init__(self, connect: Callable[[], AbstractContextManager[psycopg.Connection]]):
        """``connect``: a pool's ``connection`` (any context manager giving a connection)."""
        self.connect = connect
        self._retriers: list[tuple[Callable[[str], bool], Retrier]] = []

    def register(self, owns: Callable[[str], bool], retrier: Retrier) -> None:
        """A follower running in this process handles retries of the followers it ``owns``."""
        self._retriers.append((owns, retrier))

    # ---- the follower's side (inside its own transaction) ---------------------------------

    @staticmethod
    def streams(conn: psycopg.Connection, follower: str) -> dict[UUID, int]:
        """Streams with a parked event for ``follower`` -> id of the first one parked."""
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(
                "SELECT DISTINCT ON (stream_id) stream_id, id FROM parked_events "
                "WHERE follower = %s ORDER BY stream_id, position",
                (follower,),
            )
            return dict(cur.fetchall())

    @staticmethod
    def park(
        conn: psycopg.Connection, follower: str, event: EventRef, error: str, attempts: int
    ) -> int:
        """Park the first failing event of a stream; logs the ``ALERT``. Returns its id."""
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(
                "INSERT INTO parked_events (follower, position, stream_id, stream_version, "
                "event_type, error, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (follower, position) DO UPDATE SET error = EXCLUDED.error, "
                "attempts = EXCLUDED.attempts, behind = NULL RETURNING id",
                (
                    follower,
                    event.position,
                    event.stream_id,
                    event.version,
                    event.type,
                    error[:MAX_ERROR_CHARS],
                    attempts,
                ),
            )
            parked_id = cur.fetchone()[0]
        alerts.error(
            "ALERT %s parked event %s (%s, stream %s version %s) after %d tries: %s; the "
            "stream's later events wait behind it (ecom projections parked)",
            follower,
            event.position,
            event.type,
            event.stream_id,
            event.version,
            attempts,
            error,
        )
        return parked_id

    @staticmethod
    def park_behind(
        conn: psycopg.Connection, follower: str, events: Iterable[EventRef], heads: dict[UUID, int]
    ) -> int:
        """Park events of streams that already have a parked event, behind the first one."""
        rows = [
            (
                follower,
                e.position,
                e.stream_id,
                e.version,
                e.type,
                f"waiting behind parked event #{heads[e.stream_id]}",
                0,
                heads[e.stream_id],
            )
            for e in events
        ]
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO parked_events (follower, position, stream_id, stream_version, "
                    "event_type, error, attempts, behind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (follower, position) DO NOTHING",
                    rows,
                )
            log.warning("%s parked %d event(s) behind a parked one", follower, len(rows))
        return len(rows)

    @staticmethod
    def stream_rows(conn: psycopg.Connection, follower: str, stream_id: UUID) -> list[ParkedEvent]:
        """The stream's parked events for ``follower`` in order, locked for this transaction."""
        with conn.cursor(row_factory=class_row(ParkedEvent)) as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM parked_events WHERE follower = %s AND stream_id = %s "
                "ORDER BY position FOR UPDATE",
                (follower, stream_id),
            )
            return cur.fetchall()

    @staticmethod
    def clear(conn: psycopg.Connection, ids: list[int]) -> None:
        if ids:
            conn.execute("DELETE FROM parked_events WHERE id = ANY(%s)", (ids,))

    @staticmethod
    def failed_again(
        conn: psycopg.Connection, first: ParkedEvent, error: str, rest: list[ParkedEvent]
    ) -> None:
        """A retry failed on ``first``: it heads its stream again, ``rest`` wait behind it."""
        conn.execute(
            "UPDATE parked_events SET error = %s, attempts = attempts + 1, behind = NULL, "
            "retry_requested_at = NULL WHERE id = %s",
            (error[:MAX_ERROR_CHARS], first.id),
        )
        if rest:
            conn.execute(
                "UPDATE parked_events SET behind = %s, retry_requested_at = NULL, "
                "error = %s WHERE id = ANY(%s)",
                (first.id, f"waiting behind parked event #{first.id}", [r.id for r in rest]),
            )
        alerts.error(
            "ALERT %s: retry of parked event %s (stream %s) failed again: %s",
            first.follower,
            first.position,
            first.stream_id,
            error,
        )

    @staticmethod
    def move(conn: psycopg.Connection, source: str, target: str) -> int:
        """A rebuild's parked events become the live view's (replacing the old ones)."""
        conn.execute("DELETE FROM parked_events WHERE follower = %s", (target,))
        return conn.execute(
            "UPDATE parked_events SET follower = %s WHERE follower = %s", (target, source)
        ).rowcount

    @staticmethod
    def drop(conn: psycopg.Connection, follower: str) -> None:
        conn.execute("DELETE FROM parked_events WHERE follower = %s", (follower,))

    @staticmethod
    def requested(conn: psycopg.Connection, follower: str) -> list[UUID]:
        """Streams an operator asked ``follower`` to retry."""
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(
                "SELECT DISTINCT stream_id FROM parked_events "
                "WHERE follower = %s AND retry_requested_at IS NOT NULL",
                (follower,),
            )
            return [r[0] for r in cur.fetchall()]

    # ---- the operator's side -------------------------------------------------------------

    def list(self, follower: str | None = None, limit: int = 1000) -> list[ParkedEvent]:
        with self.connect() as conn, conn.cursor(row_factory=class_row(ParkedEvent)) as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM parked_events "
                "WHERE %(f)s::text IS NULL OR follower = %(f)s ORDER BY follower, position "
                "LIMIT %(n)s",
                {"f": follower, "n": limit},
            )
            return cur.fetchall()

    def get(self, parked_id: int) -> ParkedEvent | None:
        with self.connect() as conn, conn.cursor(row_factory=class_row(ParkedEvent)) as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM parked_events WHERE id = %s", (parked_id,))
            return cur.fetchone()

    def counts(self) -> dict[str, int]:
        with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute("SELECT follower, count(*) FROM parked_events GROUP BY follower")
            return dict(cur.fetchall())

    def retry(self, parked_id: int) -> RetryOutcome | None:
        """Retry the stream of a parked event (the whole stream, in order); None if unknown."""
        row = self.get(parked_id)
        return None if row is None else self.retry_stream(row.follower, row.stream_id)

    def retry_follower(self, follower: str) -> list[RetryOutcome]:
        streams = dict.fromkeys(r.stream_id for r in self.list(follower, limit=1_000_000))
        return [self.retry_stream(follower, s) for s in streams]

    def retry_stream(self, follower: str, stream_id: UUID) -> RetryOutcome:
        for owns, retrier in self._retriers:
            if owns(follower):
                applied, left = retrier(follower, stream_id)
                log.warning(
                    "retried parked stream %s of %s: %d handled, %d still parked",
                    stream_id,
                    follower,
                    applied,
                    left,
                )
                return RetryOutcome(follower, stream_id, applied, left)
        with self.connect() as conn:
            left = conn.execute(
                "UPDATE parked_events SET retry_requested_at = now() "
                "WHERE follower = %s AND stream_id = %s",
                (follower, stream_id),
            ).rowcount
        return RetryOutcome(follower, stream_id, 0, left, requested=True)

    def skip(self, parked_id: int, actor: str = "operator") -> RetryOutcome | None:
        """Drop one parked event (logged) and retry the ones it held back; None if unknown."""
        with self.connect() as conn, conn.transaction():
            with conn.cursor(row_factory=class_row(ParkedEvent)) as cur:
                cur.execute(
                    f"SELECT {_COLUMNS} FROM parked_events WHERE id = %s FOR UPDATE", (parked_id,)
                )
                row = cur.fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM parked_events WHERE id = %s", (parked_id,))
        alerts.warning(
            "ALERT %s skipped parked event %s (%s, stream %s version %s) for %s: it will never "
            "be handled",
            actor,
            row.position,
            row.event_type,
            row.stream_id,
            row.stream_version,
            row.follower,
        )
        if row.behind is not None:  # it waited behind another: nothing is released
            with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(
                    "SELECT count(*) FROM parked_events WHERE follower = %s AND stream_id = %s",
                    (row.follower, row.stream_id),
                )
                left = cur.fetchone()[0]
            return RetryOutcome(row.follower, row.stream_id, 0, left)
        return self.retry_stream(row.follower, row.stream_id)
