"""Moves read models forward: fetch the events of a view's topics after its position, apply
them, store the new position, commit, all in one transaction.

Many processes may run a runner at once (several API workers, a CLI rebuild): a per-view
advisory lock taken inside the transaction lets exactly one of them advance a view.
Because the event table's lock makes commit order equal position order, reading up to the
current maximum position never skips an event that commits later.

The live loop advances every view in one transaction per pass (``run_pass``): one statement
takes every view's lock, one reads their positions and the head, one fetch serves them all
(decoded once), one statement stores every new position. ``run_once`` advances one view on
its own: ``catch_up`` uses it, and the loop falls back to it for a pass that fails and for a
view whose apply keeps failing, so one broken view never holds the others back. Under a
steady load the loop starts a pass at most every ``gather_s`` (most of a pass's cost is per
view and per statement, not per event); a reader waiting in ``wait_for`` cuts that short,
in this process or, through a ``NOTIFY`` (``wakeups.HURRY``), in another. Commits do not: they
are what the pause gathers.

No event may stall a view (``eventstore/follower.py``, ``eventstore/parking.py``). A view
whose batch fails is set aside and retried on its own with a growing delay, its position
unchanged; after ``RetryPolicy.attempts`` failed tries its batch is applied event by event,
each under a SAVEPOINT, and each event that still raises is parked with the later events of
its stream behind it (a view never applies a stream out of order); every other event is
applied and the view moves on. Events of a stream already parked for a view are parked behind
it in the live pass itself, at no cost while nothing is parked (the positions query reads the
parked streams too). Infrastructure errors (the database, a pool or lock timeout) are never
parked: the loop backs off and retries. A rebuild parks at the first failure (it replays the
same code over the same events) and reports how many it parked; its parked events replace the
live view's at the swap. ``retry_parked`` re-applies a parked stream in order under the
view's lock (the parking lot calls it for ``ecom projections retry`` and the admin endpoint).

Whoever writes a view keeps its planner statistics: after a commit, the view schemas given
enough events since their last ``ANALYZE`` are analyzed (``projections/statistics.py``), and a
rebuilt view is analyzed before it goes live.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore import lock_keys
from eventstore.follower import Attempts, Follower, RetryPolicy, is_infrastructure
from eventstore.mapper import EventMapper
from eventstore.parking import ParkingLot, error_text, ref_of
from eventstore.read_access import grant_read
from eventstore.recorded import RecordedEvent
from eventstore.wakeups import hurry
from projections.base import Projection, live_schema, next_schema, old_schema
from projections.statistics import Statistics, analyze, held_rows
from projections.table_comments import describe

log = logging.getLogger(__name__)
EVENTS_TABLE = "stored_events"


class BadRow(NamedTuple):
    """A stored event that does not decode: parked like an event whose apply raises."""

    position: int
    stream_id: UUID
    version: int
    type: str
    error: str


class RebuildResult(int):
    """Events a rebuild processed (an int, as before), and how many it parked."""

    parked: int

    def __new__(cls, events: int, parked: int = 0) -> RebuildResult:
        obj = super().__new__(cls, events)
        obj.parked = parked
        return obj


@contextmanager
def _prepared(conn: psycopg.Connection) -> Iterator[None]:
    """Server-side prepared statements from the first run of each of the thousands of
    identical statements a rebuild runs; the pool's threshold is restored before the
    connection goes back to it."""
    before = conn.prepare_threshold
    conn.prepare_threshold = 0
    try:
        yield
    finally:
        conn.prepare_threshold = before


def lock_key(name: str) -> int:
    """The view's advisory lock key (``eventstore/lock_keys.py``)."""
    return lock_keys.projection(name)


@lru_cache(maxsize=64)
def _positions_query(names: tuple[str, ...]) -> bytes:
    """The head, the views' parked streams (``[[view, stream], ...]`` or NULL) and the position
    of each named view, in one row (composed once per set)."""
    return (
        sql.SQL(
            "SELECT (SELECT coalesce(max(notification_id), 0) FROM {}), "
            "(SELECT array_agg(ARRAY[follower, stream_id::text]) FROM "
            "(SELECT DISTINCT follower, stream_id FROM parked_events WHERE follower = ANY({})) p), "
            "{}"
        )
        .format(
            sql.Identifier(EVENTS_TABLE),
            sql.Literal(list(names)),
            sql.SQL(", ").join(
                sql.SQL("(SELECT position FROM {}.tracking)").format(sql.Identifier(live_schema(n)))
                for n in names
            ),
        )
        .as_bytes(None)
    )


@lru_cache(maxsize=64)
def _store_positions_query(names: tuple[str, ...]) -> bytes:
    """Every named view's tracking row set in one statement (data-modifying CTEs always run
    to completion), one parameter per view in order."""
    *first, last = (
        sql.SQL("UPDATE {}.tracking SET position = %s, updated_at = now()").format(
            sql.Identifier(live_schema(n))
        )
        for n in names
    )
    if first:
        last = sql.SQL("WITH {} {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} AS ({})").format(sql.Identifier(f"u{i}"), u)
                for i, u in enumerate(first)
            ),
            last,
        )
    return last.as_bytes(None)


@dataclass(frozen=True)
class ViewStatus:
    name: str
    position: int
    head: int
    status: str
    parked: int = 0

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class ProjectionRunner(Follower):
    thread_name = "projections"

    def __init__(
        self,
        pool: ConnectionPool,
        mapper: EventMapper,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        gather_s: float = 0.05,
        parking: ParkingLot | None = None,
        retry: RetryPolicy = RetryPolicy(),
    ):
        super().__init__()
        self.pool = pool
        self.mapper = mapper
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.gather_s = gather_s
        self._topics = {p.name: frozenset(p.topics) for p in projections}
        self.parking = parking or ParkingLot(pool.connection)
        self.parking.register(lambda f: f in self.projections, self.retry_parked)
        #: Failed tries per view and position; a view backing off runs on its own when due.
        self.attempts = Attempts(retry)
        #: Passes of the loop so far, and a condition notified after each (for ``wait_for``).
        self._passes = 0
        self._passed = threading.Condition()
        #: Set by a reader waiting in ``wait_for`` (here, or in another process through
        #: ``wakeups.HURRY``): the loop's gathering pause ends.
        self._hurry = threading.Event()
        #: Events given to each view schema since its tables were last analyzed.
        self.statistics = Statistics()

    # ---- schema --------------------------------------------------------------------------

    def ensure_schemas(self) -> None:
        """Create each view's schema if missing (deploy time, under the migration lock); an
        existing one is upgraded to its view's tables (``Projection.upgrade``) and gets its
        comments and the analysts' read grant again (all idempotent)."""
        with self.pool.connection() as conn:
            for p in self.projections.values():
                schema = live_schema(p.name)
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
                ).fetchone()
                with conn.transaction():
                    if not exists:
                        self._create_schema(conn, p, schema)
                    else:
                        p.upgrade(conn.cursor(), schema)
                        describe(conn, schema, p.comments)
                        grant_read(conn, schema)

    def _create_schema(self, conn: psycopg.Connection, p: Projection, schema: str) -> None:
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.tracking (position bigint NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now())"
            ).format(ident)
        )
        conn.execute(sql.SQL("INSERT INTO {}.tracking (position) VALUES (0)").format(ident))
        conn.execute(p.ddl.replace("{schema}", schema))
        describe(conn, schema, p.comments)
        grant_read(conn, schema)

    # ---- processing ----------------------------------------------------------------------

    def _decode(self, rows: list[tuple]) -> list[RecordedEvent | BadRow]:
        try:
            return self.mapper.to_recorded_many(rows)
        except Exception:  # noqa: BLE001 - find the rows that do not decode
            out: list[RecordedEvent | BadRow] = []
            for row in rows:
                try:
                    out.append(self.mapper.to_recorded(*row))
                except Exception as exc:  # noqa: BLE001
                    out.append(BadRow(row[0], row[1], row[2], row[3], error_text(exc)))
            return out

    def _process_batch(
        self,
        conn: psycopg.Connection,
        p: Projection,
        schema: str,
        limit: int,
        follower: str | None = None,
        isolate: int = 0,
    ) -> int:
        """Inside an open transaction: apply the next batch; return events seen (0 = caught up).
        Events of streams parked for ``follower`` are parked behind. With ``isolate`` (the
        tries so far), each event is applied under its own SAVEPOINT and each that raises is
        parked with its stream's later events; otherwise an event that raises fails the batch.
        """
        follower = follower or p.name
        ident = sql.Identifier(schema)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.SQL("SELECT position FROM {}.tracking FOR UPDATE").format(ident))
            row = cur.fetchone()
            position = row["position"] if row else 0
            # The head, and the view's parked streams with the id of each one's first parked
            # event (NULL while nothing is parked), in one round trip.
            cur.execute(
                f"SELECT (SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}) AS head, "
                "(SELECT array_agg(ARRAY[stream_id::text, id::text]) FROM (SELECT DISTINCT ON "
                "(stream_id) stream_id, id FROM parked_events WHERE follower = %s "
                "ORDER BY stream_id, position) p) AS parked",
                (follower,),
            )
            row = cur.fetchone()
            head = row["head"]
            heads = {UUID(s): int(i) for s, i in row["parked"] or ()}
            if head <= position:
                return 0
            rows = self._fetch(conn, position, head, list(p.topics), limit)
            new_position = rows[-1][0] if len(rows) == limit else head
            if isolate:
                events = self._decode(rows)
            else:
                to_recorded = self.mapper.to_recorded
                events = [to_recorded(*r) for r in rows]
            if heads:
                behind = [e for e in events if e.stream_id in heads]
                self.parking.park_behind(conn, follower, behind, heads)
                events = [e for e in events if e.stream_id not in heads]
            if events and isolate:
                self._apply_isolated(conn, cur, p, schema, follower, events, isolate)
            elif events:
                p.apply(cur, schema, events)
            self.statistics.applied(schema, len(events))
            cur.execute(
                sql.SQL("UPDATE {}.tracking SET position = %s, updated_at = now()").format(ident),
                (new_position,),
            )
            return max(1, len(events))

    def _apply_isolated(
        self,
        conn: psycopg.Connection,
        cur: psycopg.Cursor,
        p: Projection,
        schema: str,
        follower: str,
        events: list[RecordedEvent | BadRow],
        tries: int,
    ) -> int:
        """Apply event by event, each under a SAVEPOINT; park each event that raises (or does
        not decode) and every later event of its stream. Returns how many were parked."""
        parked: dict[UUID, int] = {}
        for e in events:
            if e.stream_id in parked:
                self.parking.park_behind(conn, follower, [ref_of(e)], parked)
                continue
            if isinstance(e, BadRow):
                parked[e.stream_id] = self.parking.park(conn, follower, ref_of(e), e.error, tries)
                continue
            try:
                with conn.transaction():
                    p.apply(cur, schema, [e])
            except Exception as exc:
                if is_infrastructure(exc):
                    raise
                parked[e.stream_id] = self.parking.park(
                    conn, follower, ref_of(e), error_text(exc), tries
                )
        return len(parked)

    def run_once(self, name: str, limit: int | None = None, *, isolate: int = 0) -> int:
        """Advance one live view by one batch, unless another process holds it."""
        p = self.projections[name]
        with self.pool.connection() as conn:
            with conn.transaction():
                got = conn.execute(
                    "SELECT pg_try_advisory_xact_lock(%s)", (lock_key(name),)
                ).fetchone()
                if not got[0]:
                    return 0
                seen = self._process_batch(
                    conn, p, live_schema(name), limit or self.batch_size, name, isolate
                )
            self._keep_statistics(conn)
            return seen

    def _keep_statistics(self, conn: psycopg.Connection) -> None:
        """After a commit: ``ANALYZE`` the view schemas that are due (``statistics.py``)."""
        for schema in self.statistics.due(lambda schema: held_rows(conn, schema)):
            analyze(conn, schema)

    def run_view(self, name: str) -> int:
        """Advance one view by one batch on its own, counting a failure against its position:
        the view backs off (``attempts.due``) and, once its tries are spent, the batch is
        applied event by event and what still fails is parked. Infrastructure errors raise."""
        try:
            seen = self.run_once(name)
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            at = self.position(name)
            tries = self.attempts.failed(name, at)
            if not self.attempts.exhausted(tries):
                log.warning(
                    "projection %s failed at position %s (try %d): %s; retrying on its own",
                    name,
                    at,
                    tries,
                    exc,
                    exc_info=True,
                )
                return 0
            seen = self.run_once(name, isolate=tries)
        self.attempts.clear(name)
        return seen

    # ---- the live pass: every view in one transaction -------------------------------------

    def run_pass(self, names: Sequence[str] | None = None, limit: int | None = None) -> int:
        """Advance every named live view (default: all) by at most one batch, in one
        transaction; views another process holds are left for later. Returns events seen
        plus one per view moved without an event (0 = nothing to do). If a view's apply
        raises (or an event does not decode), so does the pass, and nothing moves:
        ``live_pass`` then runs each view on its own."""
        names = list(self.projections if names is None else names)
        if not names:
            return 0
        with self.pool.connection() as conn:
            with conn.transaction():
                got = conn.execute(
                    "SELECT array_agg(pg_try_advisory_xact_lock(k) ORDER BY i) "
                    "FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, i)",
                    ([lock_key(n) for n in names],),
                ).fetchone()[0]
                mine = [n for n, ok in zip(names, got, strict=True) if ok]
                if not mine:
                    return 0
                # Read after the locks are held: a holder that just released one has committed.
                row = conn.execute(_positions_query(tuple(mine))).fetchone()
                head, parked = row[0], row[1]
                positions = dict(zip(mine, row[2:], strict=True))
                heads: dict[str, set[str]] = {}
                for follower, stream in parked or ():
                    heads.setdefault(follower, set()).add(stream)
                moved, seen = self._advance(conn, head, positions, limit or self.batch_size, heads)
                if moved:
                    conn.execute(_store_positions_query(tuple(moved)), list(moved.values()))
            self._keep_statistics(conn)
            return seen

    def _advance(
        self,
        conn: psycopg.Connection,
        head: int,
        positions: dict[str, int],
        limit: int,
        parked: dict[str, set[str]] | None = None,
    ) -> tuple[dict[str, int], int]:
        """Inside the pass's transaction: fetch once after the lowest position, give each view
        the events after its own position of its own topics; return new positions and events
        seen. A fetch that hits the limit serves only the views behind its last event; the
        views ahead of it are served by the next fetch, so a view far behind (just added)
        never holds up the others. Events of a stream parked for a view are parked behind."""
        moved: dict[str, int] = {}
        seen = 0
        pending = [n for n, at in positions.items() if at < head]
        with conn.cursor(row_factory=dict_row) as cur:
            while pending:
                after = min(positions[n] for n in pending)
                topics = sorted(frozenset().union(*(self._topics[n] for n in pending)))
                rows = self._fetch(conn, after, head, topics, limit)
                upto = rows[-1][0] if len(rows) == limit else head
                # Decoded once for every view: ``apply`` must not change the events it gets.
                events = self.mapper.to_recorded_many(rows) if rows else []
                for name in pending:
                    at = positions[name]
                    if at >= upto:
                        continue
                    mine = self._events_for(name, at, events)
                    if parked and name in parked and mine:
                        mine = self._park_behind(conn, name, mine, parked[name])
                    if mine:
                        self.projections[name].apply(cur, live_schema(name), mine)
                        self.statistics.applied(live_schema(name), len(mine))
                    moved[name] = upto
                    seen += max(1, len(mine))
                pending = [n for n in pending if positions[n] >= upto]
        return moved, seen

    def _park_behind(
        self, conn: psycopg.Connection, name: str, events: list[RecordedEvent], streams: set[str]
    ) -> list[RecordedEvent]:
        """Park the events of ``streams`` behind the first parked one; return the others."""
        if not any(str(e.stream_id) in streams for e in events):
            return events
        heads = self.parking.streams(conn, name)
        self.parking.park_behind(conn, name, [e for e in events if e.stream_id in heads], heads)
        return [e for e in events if e.stream_id not in heads]

    @staticmethod
    def _fetch(
        conn: psycopg.Connection, after: int, head: int, topics: list[str], limit: int
    ) -> list[tuple]:
        # Plain tuples in binary format: no dict per row, no hex decoding of ``state``.
        with conn.cursor(binary=True) as fetch:
            fetch.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {EVENTS_TABLE} WHERE notification_id > %s AND notification_id <= %s "
                "AND topic = ANY(%s) ORDER BY notification_id LIMIT %s",
                (after, head, topics, limit),
            )
            return fetch.fetchall()

    def _events_for(
        self, name: str, position: int, events: list[RecordedEvent]
    ) -> list[RecordedEvent]:
        topics = self._topics[name]
        return [e for e in events if e.position > position and e.type in topics]

    def run_each(self, names: Sequence[str] | None = None) -> int:
        """The per-view pass: each view by one batch in its own transaction (``run_view``):
        a view whose batch raises backs off and runs on its own until it succeeds or its
        poison is parked. Infrastructure errors propagate."""
        seen = 0
        for name in self.projections if names is None else names:
            if self._stop.is_set():
                break
            seen += self.run_view(name)
        return seen

    def live_pass(self) -> int:
        """One pass of the live loop: every view in one transaction, except the views backing
        off after a failure, which run on their own when due. If the pass fails for a reason
        other than the infrastructure (a view's apply, an event that does not decode), it is
        rolled back and this pass runs each view on its own instead, which sets the failing
        view aside."""
        waiting = self.attempts.waiting()
        due = [n for n in waiting if n in self.projections and self.attempts.due(n)]
        together = [n for n in self.projections if n not in waiting]
        try:
            seen = self.run_pass(together)
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            log.exception("projection pass failed; running each view on its own")
            seen = self.run_each(together)
        return seen + self.run_each(due)

    def step(self) -> int:
        return self.live_pass()

    def catch_up(self, names: Sequence[str] | None = None, timeout_s: float = 60.0) -> None:
        """Return once every named view has processed the head as it is now (another process
        may be the one advancing it). A failing event is retried and parked as in the loop."""
        with self.pool.connection() as conn:
            target = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ).fetchone()[0]
        deadline = time.monotonic() + timeout_s
        for name in names or list(self.projections):
            while self.position(name) < target:
                if not (self.attempts.due(name) and self.run_view(name)):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"view {name} did not reach position {target}")
                    time.sleep(0.01)

    def retry_parked(self, name: str, stream_id: UUID) -> tuple[int, int]:
        """Re-apply a stream's parked events to the live view, in order, under the view's
        lock; clear each that succeeds. Returns (applied, still parked)."""
        p = self.projections[name]
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))
            rows = self.parking.stream_rows(conn, name, stream_id)
            with conn.cursor(binary=True) as fetch:
                fetch.execute(
                    f"SELECT notification_id, originator_id, originator_version, topic, state "
                    f"FROM {EVENTS_TABLE} WHERE notification_id = ANY(%s)",
                    ([r.position for r in rows],),
                )
                stored = {r[0]: r for r in fetch.fetchall()}
            done: list[int] = []
            with conn.cursor(row_factory=dict_row) as cur:
                for i, parked in enumerate(rows):
                    try:
                        event = self.mapper.to_recorded(*stored[parked.position])
                        with conn.transaction():
                            p.apply(cur, live_schema(name), [event])
                    except Exception as exc:
                        if is_infrastructure(exc):
                            raise
                        self.parking.clear(conn, done)
                        self.parking.failed_again(conn, parked, error_text(exc), rows[i + 1 :])
                        return len(done), len(rows) - len(done)
                    done.append(parked.id)
            self.parking.clear(conn, done)
        return len(done), 0

    # ---- status --------------------------------------------------------------------------

    def position(self, name: str) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT position FROM {}.tracking").format(
                    sql.Identifier(live_schema(name))
                )
            ).fetchone()
        return row[0] if row else 0

    def status(self) -> list[ViewStatus]:
        parked = self.parking.counts()
        with self.pool.connection() as conn:
            head = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ).fetchone()[0]
            out = []
            for name in self.projections:
                position = conn.execute(
                    sql.SQL("SELECT position FROM {}.tracking").format(
                        sql.Identifier(live_schema(name))
                    )
                ).fetchone()[0]
                rebuilding = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (next_schema(name),)
                ).fetchone()
                state = (
                    "rebuilding" if rebuilding else ("live" if position >= head else "catching_up")
                )
                out.append(ViewStatus(name, position, head, state, parked.get(name, 0)))
        return out

    def wait_for(self, name: str, position: int, timeout_s: float = 5.0) -> bool:
        """Read-your-writes: wait until the view has processed ``position``. Wakes this
        process's loop if it is gathering, and looks again as soon as one of its passes ends
        (or after a growing delay, for a view another process advances)."""
        deadline = time.monotonic() + timeout_s
        delay = 0.002
        asked = False
        while True:
            passes = self._passes
            if self.position(name) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            self._hurry.set()
            self._wakeup.set()
            if not asked and self._thread is None:  # the views run elsewhere: ask them
                with self.pool.connection() as conn:
                    hurry(conn, EVENTS_TABLE)
                asked = True
            with self._passed:
                self._passed.wait_for(lambda seen=passes: self._passes != seen, timeout=delay)
            delay = min(delay * 2, 0.05)

    # ---- rebuild -------------------------------------------------------------------------

    def rebuild(
        self,
        name: str,
        *,
        batch_size: int = 5000,
        progress: Callable[[int, int], None] | None = None,
    ) -> RebuildResult:
        """Build the view afresh from position 0 beside the live one, then swap it in. An
        event whose apply raises is parked at once (with its stream's later events) under the
        follower name ``<name>__next``; at the swap these replace the live view's parked
        events. Returns the events processed, with ``.parked``."""
        p = self.projections[name]
        nxt, live, old = next_schema(name), live_schema(name), old_schema(name)
        follower = nxt
        with self.pool.connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(nxt)))
            self.parking.drop(conn, follower)
            with conn.transaction():
                self._create_schema(conn, p, nxt)
            # Without statistics (e.g. after a bulk load) the planner sorts the whole remaining
            # range of the event table for every batch, 100x slower than walking the index.
            conn.execute(f"ANALYZE {EVENTS_TABLE}")
            head = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ).fetchone()[0]
            done = 0
            while True:
                with _prepared(conn):
                    n = self._rebuild_batch(conn, p, nxt, batch_size, follower)
                self._keep_statistics(conn)
                if not n:
                    break
                done += n
                if progress:
                    progress(self._schema_position(conn, nxt), head)
            # the view goes live with statistics of its own size
            analyze(conn, nxt)
            self.statistics.forget(nxt)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))
                with _prepared(conn):
                    while self._rebuild_batch(conn, p, nxt, batch_size, follower):
                        pass
                parked = self.parking.move(conn, follower, name)
                conn.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(live), sql.Identifier(old)
                    )
                )
                conn.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(nxt), sql.Identifier(live)
                    )
                )
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
        if parked:
            log.warning("rebuild of %s parked %d event(s)", name, parked)
        return RebuildResult(done, parked)

    def _rebuild_batch(
        self, conn: psycopg.Connection, p: Projection, schema: str, size: int, follower: str
    ) -> int:
        """One rebuild batch in its own transaction (or savepoint); a batch that raises is
        applied again event by event, parking what still fails."""
        try:
            with conn.transaction():
                return self._process_batch(conn, p, schema, size, follower)
        except Exception as exc:
            if is_infrastructure(exc):
                raise
        with conn.transaction():
            return self._process_batch(conn, p, schema, size, follower, isolate=1)

    @staticmethod
    def _schema_position(conn: psycopg.Connection, schema: str) -> int:
        return conn.execute(
            sql.SQL("SELECT position FROM {}.tracking").format(sql.Identifier(schema))
        ).fetchone()[0]

    # ---- background (the loop is ``Follower``'s) -----------------------------------------

    def start(self, listen_url: str) -> None:  # type: ignore[override]
        super().start(listen_url)

    def wake_topics(self) -> frozenset[str]:
        """Commits of a topic some view reads wake the runner."""
        return frozenset().union(*self._topics.values())

    def hurry_event(self) -> threading.Event:
        return self._hurry

    def quiet_wait_s(self) -> float:
        """A view backing off after a failure is tried again every ``idle_s``."""
        return self.idle_s if self.attempts.waiting() else self.quiet_s

    def after_step(self, seen: int, started: float) -> None:
        with self._passed:
            self._passes += 1
            self._passed.notify_all()
        if seen and seen < self.batch_size:
            self._gather(started)

    def _gather(self, last_started: float) -> None:
        """Under a steady load, start the next pass no sooner than ``gather_s`` after the last
        one started, so that each pass carries several events: most of a pass's cost is per
        view and per statement, not per event. A reader waiting in ``wait_for`` cuts it
        short (``_hurry``), a commit does not; a pass that saw a batch's worth (catching up)
        is not followed by one."""
        rest = last_started + self.gather_s - time.monotonic()
        if rest > 0:
            self._hurry.wait(rest)  # not cut short by commits: they are what it gathers
        self._hurry.clear()
