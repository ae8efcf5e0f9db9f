"""Planner statistics for the views' tables, kept by whoever writes them.

``Statistics`` counts the events given to each view schema since its tables were last
analyzed, and says when to ``ANALYZE`` them again: after ``first`` events (1,000), or a tenth
of the rows its tables held when this process first counted it (as the server last analyzed
them), whichever is more; then after twice as many each time, up to every ``most`` events
(1,000,000). A view catching up over a large log is analyzed a handful of times while it grows
(its plans follow its size); a view in steady state about once per ``most`` events, and a
large one is not analyzed again after every start of the process that writes it (the search
view's ``ANALYZE`` takes most of a second at 100,000 products).

Why not leave it to autovacuum: it analyzes on its own timetable (a one-minute nap by default)
and a server may run with it off. A view catching up writes most of its rows before the first
autoanalyze, and without statistics the planner treats a table of 100,000 rows as empty: a
batch's statements (the search view's in-stock recomputation, for one) turn into sequential
scans, every batch slower than the last, and the queries the API serves pick the same plans.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


class Statistics:
    """Events per schema since its last ``ANALYZE`` (thread-safe: the live loop and a
    ``catch_up`` may count at once)."""

    def __init__(self, first: int = 1_000, most: int = 1_000_000, share: float = 0.1) -> None:
        self.first, self.most, self.share = first, most, share
        self._lock = threading.Lock()
        self._since: dict[str, int] = {}
        self._every: dict[str, int] = {}

    def applied(self, schema: str, events: int) -> None:
        """``events`` were given to ``schema``'s apply (counted even if the transaction later
        rolls back: an early ``ANALYZE`` costs little)."""
        if events:
            with self._lock:
                self._since[schema] = self._since.get(schema, 0) + events

    def due(self, rows: Callable[[str], float] = lambda schema: 0.0) -> list[str]:
        """The schemas whose count passed their threshold; each is reset and its threshold
        doubled (the caller analyzes them). ``rows(schema)``: the rows its tables hold, asked
        once per schema (outside the lock), when its count first reaches ``first``."""
        with self._lock:
            unsized = [
                schema
                for schema, since in self._since.items()
                if schema not in self._every and since >= self.first
            ]
        sizes = {schema: rows(schema) for schema in unsized}
        out = []
        with self._lock:
            for schema, held in sizes.items():
                every = min(max(self.first, int(held * self.share)), self.most)
                self._every.setdefault(schema, every)
            for schema, since in self._since.items():
                every = self._every.get(schema, self.first)
                if since >= every:
                    out.append(schema)
                    self._since[schema] = 0
                    self._every[schema] = min(every * 2, self.most)
        return out

    def forget(self, schema: str) -> None:
        """``schema`` is gone (a rebuild's old schema)."""
        with self._lock:
            self._since.pop(schema, None)
            self._every.pop(schema, None)


def held_rows(conn: psycopg.Connection, schema: str) -> float:
    """The rows ``schema``'s tables hold by the server's last statistics (0 where none)."""
    return conn.execute(
        "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r'",
        (schema,),
    ).fetchone()[0]


def analyze(conn: psycopg.Connection, schema: str) -> None:
    """``ANALYZE`` every table of ``schema`` in one statement; a failure (a lock held past the
    session's lock timeout, the schema swapped away by a rebuild) is logged, not raised: the
    next threshold tries again."""
    try:
        with conn.transaction():
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                    (schema,),
                )
            ]
            if tables:
                conn.execute(
                    sql.SQL("ANALYZE {}").format(
                        sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
                    )
                )
    except (psycopg.errors.LockNotAvailable, psycopg.errors.UndefinedTable) as exc:
        log.warning("ANALYZE of %s skipped: %s", schema, exc)
