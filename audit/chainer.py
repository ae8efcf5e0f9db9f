"""The tracked chainer: extends the hash chain (``event_chain``) over newly committed events.

It runs like a projection: each batch, in one transaction under an advisory lock so that one
process at a time extends the chain, reads the chain's last (position, hash), reads the next
events in position order, links them and COPYs the new rows in. The event table's lock makes
commit order equal position order, so reading up to the current maximum never skips an event
that commits later. ``lag`` (events not yet chained) is reported by ``/ready`` against a bound.

It is a follower of the log (``eventstore/follower.py``: the lock key from
``eventstore/lock_keys.py``, the loop and its backoff) **without parking**: a hash chain cannot
skip a link, so an event the chainer cannot link (in practice only the database failing) is
retried with backoff until it can, and ``/ready`` reports the growing lag meanwhile. Linking
reads only the stored bytes of an event, never decodes it, so no event's content can make it
fail.

With a tree store (``audit/tree_store.py``), the same transaction extends the Merkle tree from
the same rows (their ``recorded_at`` too), so the tree's size is always the chain's head. A
database whose chain predates the tree gets it built first, batch by batch, from the events
already chained (``backfill``), before the chain moves on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from audit.chain import GENESIS, link, mac
from audit.tree_store import TreeStore, leaf_hashes_between
from eventstore import lock_keys
from eventstore.follower import Follower

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainStatus:
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class EventChainer(Follower):
    thread_name = "chainer"
    #: A pass a commit cost the chainer five statements and a transaction whatever it chained
    #: (about 50 passes a second at 80 orders a second). It chains at most five times a
    #: second, each pass what came meanwhile: ``verify`` chains up to the head itself
    #: (``catch_up_to``), and the proofs answer for the tree as built, which trails the log by
    #: about that much more. A pass that fills its batch (a backlog, a history to chain) is
    #: followed by the next at once.
    pace_s = 0.2

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        events_table: str = "stored_events",
        chain_table: str = "event_chain",
        batch_size: int = 5000,
        mac_key: bytes | None = None,
        tree: TreeStore | None = None,
    ):
        super().__init__()
        self.pool = pool
        self.events = sql.Identifier(events_table)
        self.chain = sql.Identifier(chain_table)
        self.batch_size = batch_size
        self.lock_key = lock_keys.chain(chain_table)
        self.mac_key = mac_key
        self.tree = tree

    @property
    def full_batch(self) -> int:
        """A pass that chained a whole batch: behind, so the next pass is not paced."""
        return self.batch_size

    def run_once(self) -> int:
        """Chain the next batch; return how many events were chained (0: caught up or busy)."""
        with self.pool.connection() as conn, conn.transaction():
            got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (self.lock_key,)).fetchone()
            if not got[0]:
                return 0
            last = conn.execute(
                sql.SQL("SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1").format(
                    self.chain
                )
            ).fetchone()
            position, previous = (last[0], bytes(last[1])) if last else (0, GENESIS)
            if self.tree is not None:
                built = self.tree.size_in(conn)
                if built < position:
                    return self._backfill(conn, built, position)
            return self._extend(conn, position, previous)

    def _backfill(self, conn: psycopg.Connection, built: int, chained: int) -> int:
        """Grow the tree over events chained before it existed: one batch of positions."""
        upto = min(chained, built + self.batch_size)
        rows = self.tree.event_rows(conn, built, upto)
        self.tree.extend(conn, built, leaf_hashes_between(built, upto, rows))
        return upto - built

    def _extend(self, conn: psycopg.Connection, position: int, previous: bytes) -> int:
        columns = "notification_id, originator_id, originator_version, topic, state"
        if self.tree is not None:
            columns += ", recorded_at"
        with conn.cursor(binary=True) as cur:
            cur.execute(
                sql.SQL(
                    "SELECT " + columns + " FROM {} WHERE notification_id > %s "
                    "ORDER BY notification_id LIMIT %s"
                ).format(self.events),
                (position, self.batch_size),
            )
            rows = cur.fetchall()
        if not rows:
            return 0
        if self.tree is not None:
            head = rows[-1][0]
            self.tree.extend(conn, position, leaf_hashes_between(position, head, rows))
        links = []
        for pos, stream_id, version, topic, state, *_ in rows:
            previous = link(previous, pos, stream_id, version, topic, state)
            tag = None if self.mac_key is None else mac(self.mac_key, pos, previous)
            links.append((pos, previous, tag))
        with conn.cursor() as cur:
            with cur.copy(
                sql.SQL("COPY {} (position, hash, mac) FROM STDIN").format(self.chain)
            ) as copy:
                for row in links:
                    copy.write_row(row)
        return len(links)

    def catch_up(self) -> int:
        """Chain everything committed now; return the number of events chained."""
        total = 0
        while True:
            n = self.run_once()
            if n:
                total += n
                continue
            status = self.status()
            if status.lag == 0:
                return total
            self._stop.wait(0.01)

    def catch_up_to(self, head: int, timeout_s: float = 10.0) -> int:
        """Chain at least up to position ``head``, waiting at most ``timeout_s`` for another
        process that holds the chain; return the position chained now (below ``head`` if the
        wait ran out)."""
        deadline = time.monotonic() + timeout_s
        while True:
            chained = self.run_once()
            position = self.status().position
            if position >= head or time.monotonic() > deadline:
                return position
            if not chained:
                time.sleep(0.01)

    def status(self) -> ChainStatus:
        with self.pool.connection() as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT (SELECT coalesce(max(position), 0) FROM {}), "
                    "(SELECT coalesce(max(notification_id), 0) FROM {})"
                ).format(self.chain, self.events)
            ).fetchone()
        return ChainStatus(position=row[0], head=row[1])

    # ---- background (the loop is ``Follower``'s) -----------------------------------------

    def step(self) -> int:
        return self.run_once()

    def start(self, listen_url: str | None = None, *, interval_s: float = 0.2) -> None:  # type: ignore[override]
        """Chain in a thread of its own: woken by commits with ``listen_url``, else polling
        every ``interval_s``."""
        super().start(listen_url, idle_s=interval_s)
