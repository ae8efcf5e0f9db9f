"""Group commit: appends from concurrent callers share one transaction under the event
table's lock, each still checked against its own expected versions.

The first caller to find no commit in progress becomes the leader: it waits a moment for as
many writers as the last batch had, takes every waiting request (up to ``max_batch``), commits
them, and hands the lead to the oldest request still waiting. A batch is first written by one
statement, the database function ``ecom_append`` (migration 008): claim the idempotency keys,
take the library's table lock, check the streams' versions, insert, all in one round trip and
one transaction, or nothing at all. If the batch does not hold together it is done request by
request: keys, lock, versions, accept each request whose expectations hold (in arrival order,
so two requests on one stream cannot both win), insert the accepted ones' events. Rejected
requests get their own conflict; the positions go back to each accepted caller. Nothing here
runs in pipeline mode: a statement failing in a pipeline leaves the ones queued after it
unprepared on the server while psycopg counts them as prepared.

The guarantees are the library's: one table lock per transaction (commit order = position
order, so a tailing reader never skips a gap) and unique (stream, version).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import orjson
import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from eventstore.recorder import IDEMPOTENCY_TABLE, EcomRecorder, IdempotencyRecord

APPEND = (
    "SELECT ecom_append(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], %s::uuid[], "
    "%s::bigint[], %s::text[], %s::text[], %s::text[], %s::uuid[], %s::bigint[], %s::jsonb[], %s)"
)


class StreamConflict(Exception):
    """An expected version no longer held."""


class KeyTaken(Exception):
    """Another request already committed this idempotency key."""


@dataclass(eq=False)
class _Request:
    events: Sequence[StoredEvent]
    expectations: Sequence[tuple[UUID, int, int]]  # stream, expected version, events
    idempotency: IdempotencyRecord | None
    done: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)  # done, or lead now
    leads: bool = False
    positions: list[int] | None = None
    error: BaseException | None = None


class GroupCommitter:
    def __init__(self, recorder: EcomRecorder, max_batch: int = 500, gather_s: float = 0.0005):
        self.recorder = recorder
        self.max_batch = max_batch
        #: A new leader waits up to this long for as many writers as the last batch had
        #: (they are on their way back with their next append): one commit (an fsync) then
        #: serves them all. A lone writer never waits.
        self.gather_s = gather_s
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[_Request] = []
        self._leading = False
        self._last_batch = 1

    def insert(
        self,
        events: Sequence[StoredEvent],
        expectations: Sequence[tuple[UUID, int, int]],
        idempotency: IdempotencyRecord | None,
    ) -> list[int]:
        request = _Request(events, expectations, idempotency)
        with self._lock:
            self._queue.append(request)
            if self._leading:
                self._arrived.notify()
            else:
                self._leading = request.leads = True
        while not request.done.is_set():
            if request.leads:
                request.leads = False
                self._lead_once()
            else:
                request.wake.wait()
                request.wake.clear()
        if request.error is not None:
            raise request.error
        assert request.positions is not None
        return request.positions

    def _gather(self) -> None:
        deadline = time.monotonic() + self.gather_s
        with self._lock:
            while len(self._queue) < self._last_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._arrived.wait(remaining)

    def _lead_once(self) -> None:
        """Commit the batch at the head of the queue (the leader's own request is its first),
        then hand the lead to the oldest waiting request, so every caller returns as soon as
        its own batch is committed."""
        try:
            self._gather()
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                self._last_batch = max(1, len(batch))
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.leads = True
                    successor.wake.set()
                else:
                    self._leading = False

    def _commit(self, batch: list[_Request]) -> None:
        try:
            if not self._commit_at_once(batch):
                try:
                    self._commit_many(batch)
                except IntegrityError:
                    for request in batch:  # something slipped past the checks: one by one
                        request.error = request.positions = None
                        try:
                            self._commit_many([request])
                        except IntegrityError:
                            request.error = StreamConflict()
        except BaseException as exc:
            for request in batch:
                if not request.done.is_set():
                    request.error = exc
                    request.done.set()
                    request.wake.set()
            if not isinstance(exc, Exception):
                raise
        finally:
            for request in batch:
                request.done.set()
                request.wake.set()

    def _commit_at_once(self, batch: list[_Request]) -> bool:
        """The common case in one statement, one round trip, one transaction: the database
        function ``ecom_append`` (migration 008) claims the keys, locks, checks every stream is
        at the version the batch expects and inserts. False, with nothing written, when the
        batch does not hold together (a taken key, a moved stream, two requests on one
        version): ``_commit_many`` then sorts it out request by request."""
        expected: dict[UUID, int] = {}
        head: dict[UUID, int] = {}
        for request in batch:
            for sid, version, n in request.expectations:
                if head.setdefault(sid, version) != version:
                    return False  # two requests at one version: one must lose
                expected.setdefault(sid, version)
                head[sid] = version + n
        events = [e for r in batch for e in r.events]
        keys = [r.idempotency for r in batch if r.idempotency is not None]
        datastore = self.recorder.datastore
        params = (
            [e.originator_id for e in events],
            [e.originator_version for e in events],
            [e.topic for e in events],
            [e.state for e in events],
            list(expected),
            list(expected.values()),
            [k.principal for k in keys],
            [k.key for k in keys],
            [k.request_hash for k in keys],
            [k.stream_id for k in keys],
            [k.version for k in keys],
            [orjson.dumps(k.result).decode() for k in keys],
            f"{datastore.lock_timeout}s",
        )
        with datastore.get_connection() as conn:
            try:
                rows = conn.execute(APPEND, params, prepare=True).fetchall()
            except (psycopg.Error, PersistenceError):
                return False  # the statement wrote nothing
        ids = [row["ecom_append"] for row in rows]
        if len(ids) != len(events):
            raise AssertionError(f"ecom_append returned {len(ids)} ids for {len(events)} events")
        i = 0
        for request in batch:
            request.positions = ids[i : i + len(request.events)]
            i += len(request.events)
        return True

    def _commit_many(self, batch: list[_Request]) -> None:
        recorder = self.recorder
        with recorder.datastore.get_connection() as conn, conn.transaction():
            curs = conn.cursor()
            # Keys before the table lock, as the library's path does (its insert hook runs
            # before it locks): one order everywhere, so no two writers deadlock.
            taken = self._claim_keys(curs, batch)
            recorder._lock_table(curs)
            stream_ids = list({sid for r in batch for sid, _, _ in r.expectations})
            curs.execute(
                f"SELECT originator_id, max(originator_version) AS v "
                f"FROM {recorder.events_table_name} WHERE originator_id = ANY(%s) "
                "GROUP BY originator_id",
                (stream_ids,),
                prepare=True,
            )
            current = {row["originator_id"]: row["v"] for row in curs.fetchall()}
            accepted: list[_Request] = []
            released: list[tuple[str, str]] = []
            for request in batch:
                if request in taken:
                    request.error = KeyTaken()
                    continue
                after = self._versions_after(request, current)
                if after is not None:
                    current.update(after)
                    accepted.append(request)
                else:
                    request.error = StreamConflict()
                    if request.idempotency is not None:
                        released.append((request.idempotency.principal, request.idempotency.key))
            if released:
                curs.execute(
                    f"DELETE FROM {IDEMPOTENCY_TABLE} WHERE (principal, key) IN "
                    "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                    ([p for p, _ in released], [k for _, k in released]),
                )
            if accepted:
                events = [e for r in accepted for e in r.events]
                recorder._insert_stored_events(curs, events)
                ids = recorder._fetch_ids_after_insert_events(curs, events)
                assert ids is not None and len(ids) == len(events)
                i = 0
                for request in accepted:
                    request.positions = list(ids[i : i + len(request.events)])
                    i += len(request.events)

    @staticmethod
    def _versions_after(request: _Request, current: dict[UUID, int]) -> dict[UUID, int] | None:
        """The streams' versions once ``request`` is applied, or None if it does not fit
        (one request may append to the same stream more than once, in order)."""
        after: dict[UUID, int] = {}
        for sid, expected, n in request.expectations:
            if after.get(sid, current.get(sid, 0)) != expected:
                return None
            after[sid] = expected + n
        return after

    @staticmethod
    def _claim_keys(curs, batch: list[_Request]) -> set[_Request]:  # noqa: ANN001
        """Insert every request's idempotency record; return the requests whose key exists."""
        keyed = [r for r in batch if r.idempotency is not None]
        if not keyed:
            return set()
        rows = [r.idempotency for r in keyed]
        curs.execute(
            f"INSERT INTO {IDEMPOTENCY_TABLE} "
            "(principal, key, request_hash, stream_id, version, result) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::uuid[], %s::bigint[], "
            "%s::jsonb[]) ON CONFLICT DO NOTHING RETURNING principal, key",
            (
                [x.principal for x in rows],
                [x.key for x in rows],
                [x.request_hash for x in rows],
                [x.stream_id for x in rows],
                [x.version for x in rows],
                [orjson.dumps(x.result).decode() for x in rows],
            ),
        )
        inserted = {(row["principal"], row["key"]) for row in curs.fetchall()}
        seen: set[tuple[str, str]] = set()
        taken: set[_Request] = set()
        for r in keyed:
            k = (r.idempotency.principal, r.idempotency.key)
            if k not in inserted or k in seen:
                taken.add(r)
            seen.add(k)
        return taken
