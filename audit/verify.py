"""Verify the stored hash chain against the event table, optionally against a checkpoint.

Events and chain entries are read together (a full join on position, so a deleted event or a
forged one without a chain entry shows up) in windows of positions, in position order:
memory stays bounded whatever the size of the store.

``verify_to_head`` is what ``GET /audit/verify`` and ``ecom audit verify`` answer: it first has
the chain reach the log's head as it is when asked (chaining what is missing, or waiting a
bounded time for the process that chains), so an ``ok`` always covers every event up to the
head it names; a chain that could not reach it is reported ``ok: false`` with the events not
yet chained (``unchained``) and ``problem: "unchained"``. With the chainer's Merkle tree, it
also recomputes every leaf from the events and every stored node from the leaves
(``TreeStore.first_mismatch``): the tree covers what the chain does not (``recorded_at``), and a
stored node rewritten would make the signed heads vouch for a history that is not the log's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from audit.chain import GENESIS, WalkResult, walk
from audit.chainer import EventChainer
from audit.checkpoint import Checkpoint

FIRST_WINDOW = 256
MAX_WINDOW = 20_000


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    events_checked: int
    head: int
    head_hash: str
    first_bad_position: int | None
    problem: str | None
    unchained: int

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "head": self.head,
            "head_hash": self.head_hash,
            "first_bad_position": self.first_bad_position,
            "problem": self.problem,
            "unchained": self.unchained,
        }


def _rows(
    conn: psycopg.Connection, events: str, chain: str, after: int, upto: int
) -> Iterator[tuple]:
    """Rows of ``(after, upto]`` in windows of positions: small at first (a walk that stops
    early reads little), growing to ``MAX_WINDOW`` (memory stays bounded)."""
    query = sql.SQL(
        "SELECT coalesce(e.notification_id, c.position) AS pos, uuid_send(e.originator_id), "
        "e.originator_version, e.topic, e.state, c.hash, c.mac "
        "FROM (SELECT * FROM {ev} WHERE notification_id > %(a)s AND notification_id <= %(u)s) e "
        "FULL JOIN (SELECT * FROM {ch} WHERE position > %(a)s AND position <= %(u)s) c "
        "ON c.position = e.notification_id ORDER BY pos"
    ).format(ev=sql.Identifier(events), ch=sql.Identifier(chain))
    lo, window = after, FIRST_WINDOW
    while lo < upto:
        hi = min(upto, lo + window)
        with conn.cursor(binary=True) as cur:
            cur.execute(query, {"a": lo, "u": hi})
            yield from cur.fetchall()
        lo, window = hi, min(window * 4, MAX_WINDOW)


def verify(
    pool: ConnectionPool,
    *,
    checkpoint: Checkpoint | None = None,
    after: int = 0,
    previous: bytes = GENESIS,
    events_table: str = "stored_events",
    chain_table: str = "event_chain",
    mac_key: bytes | None = None,
) -> VerifyReport:
    """Walk the chain from ``(after, previous)`` (a trusted point; the start by default) to its
    head, and through ``checkpoint`` when given; with ``mac_key``, check each entry's MAC."""
    with pool.connection() as conn:
        chain_head, event_head = conn.execute(
            sql.SQL(
                "SELECT (SELECT coalesce(max(position), 0) FROM {}), "
                "(SELECT coalesce(max(notification_id), 0) FROM {})"
            ).format(sql.Identifier(chain_table), sql.Identifier(events_table))
        ).fetchone()
        unchained = max(0, event_head - chain_head)
        checked = 0
        result = WalkResult(True, 0, after, previous)
        if checkpoint is not None and checkpoint.position > after:
            result = walk(
                _rows(conn, events_table, chain_table, after, checkpoint.position),
                previous=previous,
                after=after,
                chained_up_to=checkpoint.position,
                mac_key=mac_key,
            )
            checked = result.events_checked
            if result.ok and result.last_position < checkpoint.position:
                result.ok = False
                result.first_bad_position = result.last_position + 1
                result.problem = "truncated"
            elif result.ok and result.last_hash != checkpoint.hash:
                result.ok = False
                result.first_bad_position = checkpoint.position
                result.problem = "checkpoint_mismatch"
        if result.ok and chain_head > result.last_position:
            start = result.last_position
            result = walk(
                _rows(conn, events_table, chain_table, start, chain_head),
                previous=result.last_hash,
                after=start,
                chained_up_to=chain_head,
                mac_key=mac_key,
            )
            checked += result.events_checked
    return VerifyReport(
        ok=result.ok,
        events_checked=checked,
        head=result.last_position,
        head_hash=result.last_hash.hex(),
        first_bad_position=result.first_bad_position,
        problem=result.problem,
        unchained=unchained,
    )


def event_head(pool: ConnectionPool, events_table: str = "stored_events") -> int:
    with pool.connection() as conn:
        return conn.execute(
            sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                sql.Identifier(events_table)
            )
        ).fetchone()[0]


def verify_to_head(
    pool: ConnectionPool,
    chainer: EventChainer | None,
    *,
    wait_s: float = 10.0,
    checkpoint: Checkpoint | None = None,
) -> VerifyReport:
    """Chain up to the log's current head (at most ``wait_s``), then verify the chain to its
    head and the Merkle tree against the events; ``ok`` only when that head is at least the
    log's head when asked. A tree that disagrees before the chain's first bad position is
    reported at its own position (``leaf_mismatch``, ``node_mismatch``)."""
    target = event_head(pool)
    if chainer is not None:
        chainer.catch_up_to(target, wait_s)
    report = verify(
        pool, checkpoint=checkpoint, mac_key=chainer.mac_key if chainer is not None else None
    )
    tree = chainer.tree if chainer is not None else None
    if tree is not None:
        limit = report.head if report.ok else (report.first_bad_position or 1) - 1
        found = tree.first_mismatch(limit)
        if found is not None:
            position, problem = found
            return replace(report, ok=False, first_bad_position=position, problem=problem)
    if report.ok and report.head < target:
        return replace(
            report,
            ok=False,
            problem="unchained",
            unchained=max(report.unchained, target - report.head),
        )
    return report


def chain_hash_at(pool: ConnectionPool, position: int, chain_table: str = "event_chain") -> bytes:
    with pool.connection() as conn:
        row = conn.execute(
            sql.SQL("SELECT hash FROM {} WHERE position = %s").format(sql.Identifier(chain_table)),
            (position,),
        ).fetchone()
    return GENESIS if row is None else bytes(row[0])
