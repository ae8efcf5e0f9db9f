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
view and per statement, not per event); a reader waiting in ``wait_for`` cuts that short.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from eventstore.mapper import EventMapper
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema, next_schema, old_schema

log = logging.getLogger(__name__)
EVENTS_TABLE = "stored_events"
#: No connection to be had: not a view's fault; the loop backs off and retries everything.
#: Any other error (a view's apply, an event that does not decode, a connection that broke
#: mid-pass) is retried view by view, each on a fresh connection.
DATABASE_ERRORS = (PoolTimeout,)
#: A view whose apply raised runs on its own, retried no more often than this.
RETRY_ALONE_S = 1.0


@contextmanager
def _prepared(conn: psycopg.Connection) -> Iterator[None]:
    """Server-side prepared statements for the thousands of identical statements a rebuild
    runs (the pool turns them off); restored before the connection goes back to the pool."""
    conn.prepare_threshold = 0
    try:
        yield
    finally:
        conn.prepare_threshold = None


def lock_key(name: str) -> int:
    return 7_311_000_000 + zlib.crc32(name.encode())


@lru_cache(maxsize=64)
def _positions_query(names: tuple[str, ...]) -> bytes:
    """The head and the position of each named view, in one row (composed once per set)."""
    return (
        sql.SQL("SELECT (SELECT coalesce(max(notification_id), 0) FROM {}), {}")
        .format(
            sql.Identifier(EVENTS_TABLE),
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

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class ProjectionRunner:
    def __init__(
        self,
        pool: ConnectionPool,
        mapper: EventMapper,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        gather_s: float = 0.05,
    ):
        self.pool = pool
        self.mapper = mapper
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.gather_s = gather_s
        self._topics = {p.name: frozenset(p.topics) for p in projections}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wakeup = threading.Event()
        #: Views set aside after their apply raised: name -> when to retry it (on its own).
        self._alone: dict[str, float] = {}
        #: Passes of the loop so far, and a condition notified after each (for ``wait_for``).
        self._passes = 0
        self._passed = threading.Condition()

    # ---- schema --------------------------------------------------------------------------

    def ensure_schemas(self) -> None:
        """Create each view's schema if missing (deploy time, under the migration lock)."""
        with self.pool.connection() as conn:
            for p in self.projections.values():
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (live_schema(p.name),)
                ).fetchone()
                if not exists:
                    with conn.transaction():
                        self._create_schema(conn, p, live_schema(p.name))

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

    # ---- processing ----------------------------------------------------------------------

    def _process_batch(
        self, conn: psycopg.Connection, p: Projection, schema: str, limit: int
    ) -> int:
        """Inside an open transaction: apply the next batch; return events seen (0 = caught up)."""
        ident = sql.Identifier(schema)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.SQL("SELECT position FROM {}.tracking FOR UPDATE").format(ident))
            row = cur.fetchone()
            position = row["position"] if row else 0
            cur.execute(f"SELECT coalesce(max(notification_id), 0) AS head FROM {EVENTS_TABLE}")
            head = cur.fetchone()["head"]
            if head <= position:
                return 0
            # Plain tuples in binary format: no dict per row, no hex decoding of ``state``.
            with conn.cursor(binary=True) as fetch:
                fetch.execute(
                    f"SELECT notification_id, originator_id, originator_version, topic, state "
                    f"FROM {EVENTS_TABLE} WHERE notification_id > %s AND notification_id <= %s "
                    "AND topic = ANY(%s) ORDER BY notification_id LIMIT %s",
                    (position, head, list(p.topics), limit),
                )
                rows = fetch.fetchall()
            new_position = rows[-1][0] if len(rows) == limit else head
            to_recorded = self.mapper.to_recorded
            events = [to_recorded(*r) for r in rows]
            if events:
                p.apply(cur, schema, events)
            cur.execute(
                sql.SQL("UPDATE {}.tracking SET position = %s, updated_at = now()").format(ident),
                (new_position,),
            )
            return max(1, len(events))

    def run_once(self, name: str, limit: int | None = None) -> int:
        """Advance one live view by one batch, unless another process holds it."""
        p = self.projections[name]
        with self.pool.connection() as conn, conn.transaction():
            got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(name),)).fetchone()
            if not got[0]:
                return 0
            return self._process_batch(conn, p, live_schema(name), limit or self.batch_size)

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
        with self.pool.connection() as conn, conn.transaction():
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
            head, positions = row[0], dict(zip(mine, row[1:], strict=True))
            moved, seen = self._advance(conn, head, positions, limit or self.batch_size)
            if moved:
                conn.execute(_store_positions_query(tuple(moved)), list(moved.values()))
            return seen

    def _advance(
        self, conn: psycopg.Connection, head: int, positions: dict[str, int], limit: int
    ) -> tuple[dict[str, int], int]:
        """Inside the pass's transaction: fetch once after the lowest position, give each view
        the events after its own position of its own topics; return new positions and events
        seen. A fetch that hits the limit serves only the views behind its last event; the
        views ahead of it are served by the next fetch, so a view far behind (just added)
        never holds up the others."""
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
                    if mine:
                        self.projections[name].apply(cur, live_schema(name), mine)
                    moved[name] = upto
                    seen += max(1, len(mine))
                pending = [n for n in pending if positions[n] >= upto]
        return moved, seen

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
        """The per-view pass: each view by one batch in its own transaction (``run_once``). A
        view whose apply raises is logged and set aside: later live passes run it on its own,
        at most every ``RETRY_ALONE_S``, until it succeeds. Database errors propagate."""
        seen = 0
        for name in self.projections if names is None else names:
            if self._stop.is_set():
                break
            try:
                seen += self.run_once(name)
            except DATABASE_ERRORS:
                raise
            except Exception:
                log.exception("projection %s failed; it retries the same batch on its own", name)
                self._alone[name] = time.monotonic() + RETRY_ALONE_S
            else:
                self._alone.pop(name, None)
        return seen

    def live_pass(self) -> int:
        """One pass of the live loop: every view in one transaction, except the views set
        aside, which run on their own when due. If the pass fails for a reason other than the
        database (a view's apply, an event that does not decode), it is rolled back and this
        pass runs each view on its own instead, which sets the failing view aside."""
        now = time.monotonic()
        due = [n for n, at in self._alone.items() if at <= now]
        together = [n for n in self.projections if n not in self._alone]
        try:
            seen = self.run_pass(together)
        except DATABASE_ERRORS:
            raise
        except Exception:
            log.exception("projection pass failed; running each view on its own")
            seen = self.run_each(together)
        return seen + self.run_each(due)

    def catch_up(self, names: Sequence[str] | None = None, timeout_s: float = 60.0) -> None:
        """Return once every named view has processed the head as it is now (another process
        may be the one advancing it)."""
        with self.pool.connection() as conn:
            target = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ).fetchone()[0]
        deadline = time.monotonic() + timeout_s
        for name in names or list(self.projections):
            while self.position(name) < target:
                if not self.run_once(name):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"view {name} did not reach position {target}")
                    time.sleep(0.01)

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
                out.append(ViewStatus(name, position, head, state))
        return out

    def wait_for(self, name: str, position: int, timeout_s: float = 5.0) -> bool:
        """Read-your-writes: wait until the view has processed ``position``. Wakes this
        process's loop if it is gathering, and looks again as soon as one of its passes ends
        (or after a growing delay, for a view another process advances)."""
        deadline = time.monotonic() + timeout_s
        delay = 0.002
        while True:
            passes = self._passes
            if self.position(name) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            self._wakeup.set()
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
    ) -> int:
        """Build the view afresh from position 0 beside the live one, then swap it in."""
        p = self.projections[name]
        nxt, live, old = next_schema(name), live_schema(name), old_schema(name)
        with self.pool.connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(nxt)))
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
                with conn.transaction(), _prepared(conn):
                    n = self._process_batch(conn, p, nxt, batch_size)
                if not n:
                    break
                done += n
                if progress:
                    progress(self._schema_position(conn, nxt), head)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))
                with _prepared(conn):
                    while self._process_batch(conn, p, nxt, batch_size):
                        pass
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
        return done

    @staticmethod
    def _schema_position(conn: psycopg.Connection, schema: str) -> int:
        return conn.execute(
            sql.SQL("SELECT position FROM {}.tracking").format(sql.Identifier(schema))
        ).fetchone()[0]

    # ---- background ----------------------------------------------------------------------

    def start(self, listen_url: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(listen_url,), name="projections", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _gather(self, last_started: float) -> None:
        """Under a steady load, start the next pass no sooner than ``gather_s`` after the last
        one started, so that each pass carries several events: most of a pass's cost is per
        view and per statement, not per event. A reader waiting in ``wait_for`` cuts it
        short; a pass that saw a batch's worth (catching up) is not followed by one."""
        rest = last_started + self.gather_s - time.monotonic()
        if rest > 0:
            self._wakeup.wait(rest)

    def _loop(self, listen_url: str) -> None:
        listener = None
        while not self._stop.is_set():
            try:
                if listener is None:
                    listener = psycopg.connect(listen_url, autocommit=True)
                    listener.execute(f"LISTEN {EVENTS_TABLE}")
                started = time.monotonic()
                self._wakeup.clear()
                # Notifications queued while the last pass ran or gathered are covered by this
                # pass (it reads the head after them): drop them rather than pass once for each.
                for _ in listener.notifies(timeout=0):
                    pass
                seen = self.live_pass()
                with self._passed:
                    self._passes += 1
                    self._passed.notify_all()
                if not seen:
                    for _ in listener.notifies(timeout=0.2, stop_after=1):
                        pass
                elif seen < self.batch_size:
                    self._gather(started)
            except Exception:  # keep the view alive; a later batch retries the same range
                log.exception("projection runner failed; retrying")
                if listener is not None:
                    listener.close()
                    listener = None
                self._stop.wait(1.0)
        if listener is not None:
            listener.close()
