"""Group commit: appends from concurrent callers share one transaction under the event
table's lock, each still checked against its own expected versions.

Up to ``in_flight`` batches are committed at once, each by one caller (its leader) on its own
connection: while one batch holds the table lock and commits, the next is already formed and
waits for the lock on the server, so the server never idles between batches. A caller that
finds no batch forming and a slot free becomes the next leader: it waits a moment for as many
writers as the last batch had, takes every waiting request (up to ``max_batch``) and commits
them; when a batch is taken or done, the oldest request still waiting leads the next one.

A batch is first written by one statement, the database function ``ecom_append_quiet``
(migration 009; 033 adds each event's metadata columns): check the streams' versions, claim
the idempotency keys, take the library's table lock, insert, all in one round trip and one
transaction, or nothing at all; the links of new streams to the owners of their personal
data and new customers' data keys (``eventstore/privacy.py``; the keys claimed before the
lock by ``ecom_claim_keys``, migration 032) go in with the events, in the same statement. If
the batch does not hold together it is done request by request: new data keys (each in a
savepoint: one another writer made first fails its request only), keys, lock, versions,
accept each request whose expectations hold (in arrival order, so two requests on one stream
cannot both win), insert the accepted ones' events and links. Rejected requests get their
own conflict; the positions go back to each accepted caller. Nothing here runs in pipeline
mode: a statement failing in a pipeline leaves the ones queued after it unprepared on the
server while psycopg counts them as prepared. Listeners are woken after commit
(``eventstore.commit_notifier``).

The guarantees are the library's: one table lock per transaction (commit order = position
order, so a tailing reader never skips a gap, however many batches are in flight) and unique
(stream, version). Idempotency keys are claimed before the lock and in sorted order, so two
batches in flight with one key wait for each other (the second then fails and is sorted out
request by request), never deadlock.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import orjson
import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg.rows import tuple_row

from eventstore.commit_notifier import CommitNotifier
from eventstore.recorder import IDEMPOTENCY_TABLE, EcomRecorder, IdempotencyRecord
from eventstore.wakeups import topic_mask

#: The links of streams to the owners of their personal data (``eventstore/privacy.py``).
LINKS = (
    "INSERT INTO personal_data_streams (stream_id, customer_id) "
    "SELECT * FROM unnest(%b::uuid[], %b::uuid[]) ON CONFLICT (stream_id) DO NOTHING"
)
#: New customers' data keys, claimed before the lock (migration 032: fails with ``EK001`` if
#: a customer has a key already).
CLAIM_DATA_KEYS = "SELECT ecom_claim_keys(%b::uuid[], %b::bytea[])"
DATA_KEY_TAKEN = "EK001"
#: The links and new keys go in with the events, in the same statement: all commit, or none.
#: Parameters in binary (%b): dumping a batch's arrays as text cost the client ~2.5x as much
#: (every state hex-encoded, every element looked at to choose its type).
APPEND = (
    f"WITH link AS ({LINKS}) "
    "SELECT ecom_append_quiet(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], "
    "%b::timestamptz[], %b::text[], %b::text[], %b::uuid[], %b::bigint[], "
    "%b::text[], %b::text[], %b::text[], %b::uuid[], %b::bigint[], %b::jsonb[], %b) "
    "FROM (SELECT ecom_claim_keys(%b::uuid[], %b::bytea[]) OFFSET 0) AS claimed"
)


class StreamConflict(Exception):
    """An expected version no longer held."""


class KeyTaken(Exception):
    """Another request already committed this idempotency key."""


class NewKeyTaken(Exception):
    """A customer's data key this request made exists already (another writer's)."""


def _locked() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Session:
    """One of our connections, and its cursor for ``APPEND``: a cursor that runs the same
    query again keeps the dumpers it chose for the parameters; its rows are plain tuples."""

    conn: psycopg.Connection
    append: psycopg.Cursor
    last_used: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        self.conn.close()


@dataclass(eq=False)
class _Request:
    events: Sequence[StoredEvent]
    expectations: Sequence[tuple[UUID, int, int]]  # stream, expected version, events
    idempotency: IdempotencyRecord | None
    #: (stream, customer): links to the owners of personal data, written with the events.
    links: Sequence[tuple[UUID, UUID]] = ()
    #: (customer, key): new customers' data keys, claimed with the events.
    new_keys: Sequence[tuple[UUID, bytes]] = ()
    #: Released once for a waiting caller: its batch is done, or it leads the next one. (A
    #: bare lock: an Event costs a condition, a lock and a deque for every wait and set.)
    wake: threading.Lock = field(default_factory=_locked)
    leads: bool = False
    positions: list[int] | None = None
    error: BaseException | None = None


class GroupCommitter:
    def __init__(
        self,
        recorder: EcomRecorder,
        max_batch: int = 500,
        gather_s: float = 0.0005,
        in_flight: int = 2,
    ):
        self.recorder = recorder
        self.max_batch = max_batch
        #: A new leader waits up to this long for as many writers as the last batch had
        #: (they are on their way back with their next append): one commit (an fsync) then
        #: serves them all. A lone writer never waits.
        self.gather_s = gather_s
        #: Batches committed at once, each on its own connection; the table lock still lets
        #: one at a time insert and commit, the others wait for it on the server.
        self.in_flight = in_flight
        self.notifier = CommitNotifier(recorder.datastore, recorder.channel_name)
        #: Our own connections, one per batch in flight, kept from batch to batch: the pool
        #: hands out its idle connections in turn, and a call on a server process that has
        #: not run for a while costs ~0.2-0.4 ms more on this machine than one on a warm one.
        self._sessions: list[_Session] = []
        weakref.finalize(self, _close_all, self._sessions)
        #: A connection unused for this long is replaced rather than trusted (the server, or
        #: something on the way, may have dropped it meanwhile), as the pool retires its own.
        self.max_idle_s = 60.0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[_Request] = []
        self._forming = False  # a leader is gathering the next batch
        self._committing = 0  # batches taken and not yet answered
        self._last_batch = 1
        #: Diagnostics: batches and appends taken so far (appends / batches is the mean batch
        #: size), and the most batches ever in flight at once.
        self.batches = 0
        self.appends = 0
        self.peak_in_flight = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for a batch (diagnostics)."""
        with self._lock:
            return len(self._queue)

    def insert(
        self,
        events: Sequence[StoredEvent],
        expectations: Sequence[tuple[UUID, int, int]],
        idempotency: IdempotencyRecord | None,
        links: Sequence[tuple[UUID, UUID]] = (),
        new_keys: Sequence[tuple[UUID, bytes]] = (),
    ) -> list[int]:
        """Append ``events`` if every stream is at the version expected, with the idempotency
        record, the personal data links (``links``: stream, customer) and new customers' data
        keys (``new_keys``: customer, key), all in one transaction; the events' positions.
        Raises ``StreamConflict``, ``KeyTaken`` or ``NewKeyTaken``."""
        request = _Request(events, expectations, idempotency, links, new_keys)
        with self._lock:
            self._queue.append(request)
            if self._forming:
                if len(self._queue) >= self._last_batch:
                    self._arrived.notify()
            elif self._committing < self.in_flight:
                self._forming = request.leads = True
        if not request.leads:
            request.wake.acquire()
        if request.leads:  # and its own request is in the batch it leads
            self._lead_once(request)
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

    def _lead_once(self, leader: _Request) -> None:
        """Commit the batch at the head of the queue (the leader's own request is its first);
        as soon as it is taken, and again once it is committed, the oldest waiting request
        may lead the next one, so every caller returns as soon as its own batch is
        committed."""
        batch: list[_Request] = []
        session: _Session | None = None
        try:
            self._gather()
            with self._lock:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                assert batch[0] is leader  # a leader is always the oldest request waiting
                self._forming = False
                self._committing += 1
                self.peak_in_flight = max(self.peak_in_flight, self._committing)
                self.batches += 1
                self.appends += len(batch)
                self._appoint_leader()
                if self._sessions:
                    session = self._sessions.pop()
            if session is not None and time.monotonic() - session.last_used > self.max_idle_s:
                session.close()
                session = None
            session = self._commit(batch, session, leader)
        finally:
            with self._lock:
                if batch:
                    self._committing -= 1
                    self._last_batch = len(batch)
                else:
                    self._forming = False
                self._appoint_leader()
                if session is not None and not session.conn.broken:
                    session.last_used = time.monotonic()
                    self._sessions.append(session)
                    session = None
            if session is not None:
                session.close()

    def _connect(self) -> _Session:
        """A connection like the datastore pool's (autocommit, dict rows), but ours."""
        datastore = self.recorder.datastore
        pool = datastore.pool
        conn = pool.connection_class.connect(pool.conninfo, **pool.kwargs)
        datastore.after_connect_func()(conn)
        return _Session(conn, conn.cursor(row_factory=tuple_row))

    def close(self) -> None:
        """Close the connections kept for the next batches (a later append opens new ones)."""
        with self._lock:
            sessions = list(self._sessions)
            self._sessions.clear()
        _close_all(sessions)

    def _appoint_leader(self) -> None:
        """With the lock held: let the oldest waiting request form the next batch, if none is
        forming and a slot is free."""
        if self._queue and not self._forming and self._committing < self.in_flight:
            successor = self._queue[0]
            self._forming = successor.leads = True
            successor.wake.release()

    def _commit(
        self, batch: list[_Request], session: _Session | None, leader: _Request
    ) -> _Session | None:
        """Write the batch in ``session`` (or a new one); answer every request in it (the
        leader's own one is answered by returning); return the session used."""
        try:
            if session is None:
                session = self._connect()
            if not self._commit_at_once(batch, session.append):
                conn = session.conn
                try:
                    self._commit_many(batch, conn)
                except psycopg.IntegrityError:
                    for request in batch:  # something slipped past the checks: one by one
                        request.error = request.positions = None
                        try:
                            self._commit_many([request], conn)
                        except psycopg.IntegrityError:
                            request.error = StreamConflict()
        except BaseException as exc:
            for request in batch:
                request.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            if any(request.positions for request in batch):
                self.notifier.committed(
                    max(max(r.positions or [0]) for r in batch),
                    topic_mask(e.topic for r in batch if r.positions for e in r.events),
                )
            for request in batch:
                if request is not leader:
                    request.wake.release()
        return session

    def _commit_at_once(self, batch: list[_Request], cursor: psycopg.Cursor) -> bool:
        """The common case in one statement, one round trip, one transaction: the database
        function ``ecom_append_quiet`` (migration 009) checks every stream is at the version
        the batch expects, claims the keys, locks and inserts. False, with nothing written,
        when the batch does not hold together (a taken key, a moved stream, two requests on
        one version): ``_commit_many`` then sorts it out request by request."""
        expected: dict[UUID, int] = {}
        head: dict[UUID, int] = {}
        for request in batch:
            for sid, version, n in request.expectations:
                if head.setdefault(sid, version) != version:
                    return False  # two requests at one version: one must lose
                expected.setdefault(sid, version)
                head[sid] = version + n
        events = [e for r in batch for e in r.events]
        keys = _keys_in_order(batch)
        datastore = self.recorder.datastore
        links = [link for r in batch for link in r.links]
        params = (
            [stream for stream, _ in links],
            [customer for _, customer in links],
            [e.originator_id for e in events],
            [e.originator_version for e in events],
            [e.topic for e in events],
            [e.state for e in events],
            *_meta_columns(events),
            list(expected),
            list(expected.values()),
            [k.principal for k in keys],
            [k.key for k in keys],
            [k.request_hash for k in keys],
            [k.stream_id for k in keys],
            [k.version for k in keys],
            [orjson.dumps(k.result).decode() for k in keys],
            f"{datastore.lock_timeout}s",
            *_new_key_columns(batch),
        )
        try:
            rows = cursor.execute(APPEND, params, prepare=True).fetchall()
        except psycopg.Error:
            if cursor.connection.broken:
                raise
            return False  # the statement wrote nothing
        ids = [row[0] for row in rows]
        if len(ids) != len(events):
            raise AssertionError(
                f"ecom_append_quiet returned {len(ids)} ids for {len(events)} events"
            )
        _hand_out(batch, ids)
        return True

    def _commit_many(self, batch: list[_Request], conn: psycopg.Connection) -> None:
        recorder = self.recorder
        with conn.transaction():
            curs = conn.cursor()
            # Keys before the table lock, as the library's path does (its insert hook runs
            # before it locks): one order everywhere, so no two writers deadlock.
            beaten = self._claim_data_keys(conn, curs, batch)
            for request in beaten:
                request.error = NewKeyTaken()
            batch = [r for r in batch if r not in beaten]
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
                # Our INSERT, not the recorder's: the library's would NOTIFY under the lock.
                events = [e for r in accepted for e in r.events]
                curs.execute(
                    f"INSERT INTO {recorder.events_table_name} (originator_id, "
                    "originator_version, topic, state, occurred_at, actor, correlation_id) "
                    "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], "
                    "%b::timestamptz[], %b::text[], %b::text[]) RETURNING notification_id",
                    (
                        [e.originator_id for e in events],
                        [e.originator_version for e in events],
                        [e.topic for e in events],
                        [e.state for e in events],
                        *_meta_columns(events),
                    ),
                    prepare=True,
                )
                ids = [row["notification_id"] for row in curs.fetchall()]
                assert len(ids) == len(events)
                links = [link for r in accepted for link in r.links]
                if links:
                    curs.execute(
                        LINKS, ([s for s, _ in links], [c for _, c in links]), prepare=True
                    )
                _hand_out(accepted, ids)

    @staticmethod
    def _claim_data_keys(conn, curs, batch: list[_Request]) -> set[_Request]:  # noqa: ANN001
        """Claim each request's new data keys, one savepoint each, in customer order (as
        every batch claims them); return the requests whose key another writer made first."""
        beaten: set[_Request] = set()
        for request in sorted((r for r in batch if r.new_keys), key=lambda r: min(r.new_keys)):
            try:
                with conn.transaction():
                    curs.execute(CLAIM_DATA_KEYS, _new_key_columns([request]), prepare=True)
            except psycopg.Error as exc:
                if exc.sqlstate != DATA_KEY_TAKEN:
                    raise
                beaten.add(request)
        return beaten

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
        rows = _keys_in_order(keyed)
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


def _new_key_columns(batch: Sequence[_Request]) -> tuple[list[UUID], list[bytes]]:
    """The batch's new data keys as (customers, keys), in customer order."""
    keys = sorted({k for r in batch for k in r.new_keys})
    return [customer for customer, _ in keys], [key for _, key in keys]


def _meta_columns(events: Sequence[StoredEvent]) -> tuple[list, list, list]:
    """The events' metadata columns (occurred_at, actor, correlation_id; migration 033) as
    ``eventstore.mapper.StampedEvent`` carries them; NULLs for an event without (its index
    entries are then computed from its state)."""
    return (
        [getattr(e, "occurred_at", None) for e in events],
        [getattr(e, "actor", None) for e in events],
        [getattr(e, "correlation_id", None) for e in events],
    )


def _close_all(sessions: list[_Session]) -> None:
    for session in sessions:
        session.close()


def _keys_in_order(batch: Sequence[_Request]) -> list[IdempotencyRecord]:
    """The batch's idempotency records in one order everywhere (principal, key): two batches
    in flight claiming the same keys then wait for each other instead of deadlocking."""
    keys = [r.idempotency for r in batch if r.idempotency is not None]
    return sorted(keys, key=lambda k: (k.principal, k.key))


def _hand_out(requests: Sequence[_Request], ids: Sequence[int]) -> None:
    """Give each request its events' positions, in the order its events were inserted."""
    i = 0
    for request in requests:
        request.positions = list(ids[i : i + len(request.events)])
        i += len(request.events)
