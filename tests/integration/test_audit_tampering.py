"""Tamper evidence: 1,000 random tamperings of a chained store of 10,000+ events, each found at
the right first position: a changed byte of data or metadata, a deleted row, two rows swapped,
a forged row, a truncated tail (found through a signed checkpoint) and a tail rewritten with a
recomputed chain (found at its first position through the entries' MACs, whose key the
tamperer lacks; without the key, at the signed checkpoint).

The tampering happens on a dedicated copy of the event table's shape (so the shared test
database's own events stay intact) and each verify starts from a trusted chain point a little
before the tamper (as an auditor holding periodic checkpoints would); every tamper is undone
before the next one.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql

from audit.chain import GENESIS, link
from audit.chainer import EventChainer
from audit.checkpoint import (
    CheckpointInvalid,
    load_or_create_key,
    read_checkpoint,
    write_checkpoint,
)
from audit.verify import verify

N = 12_000
GAP_EVERY = 7  # positions divisible by 7 are gaps (rolled-back transactions leave such holes)
TRUST_STRIDE = 128
TAIL = 2_000  # truncations and rewrites start within the last TAIL events
MAC_KEY = b"k" * 32  # the verifier's secret; the tamperer never has it
KINDS = ("data", "metadata", "delete", "swap", "forge", "truncate", "rewrite")


@pytest.fixture(scope="module")
def tables(container):
    suffix = uuid.uuid4().hex[:8]
    events, chain, backup = (
        f"tamper_events_{suffix}",
        f"tamper_chain_{suffix}",
        f"tamper_bk_{suffix}",
    )
    with container.pool.connection() as conn:
        for name in (events, backup):
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (notification_id bigint, originator_id uuid, "
                    "originator_version bigint, topic text, state bytea)"
                ).format(sql.Identifier(name))
            )
        conn.execute(sql.SQL("CREATE INDEX ON {} (notification_id)").format(sql.Identifier(events)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (position bigint PRIMARY KEY, hash bytea NOT NULL, mac bytea)"
            ).format(sql.Identifier(chain))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} SELECT i, md5((i %% 500)::text)::uuid, i / 500 + 1, "
                "'order.Synthetic', convert_to(jsonb_build_object('v', 1, 'm', "
                "jsonb_build_object('actor', 'u' || (i %% 13), 'occurred_at', "
                "'2026-01-01T00:00:00+00:00'), 'd', jsonb_build_object('n', i, "
                "'note', repeat('x', i %% 40)))::text, 'UTF8') "
                "FROM generate_series(1, %s) AS i WHERE i %% %s <> 0"
            ).format(sql.Identifier(events)),
            (N, GAP_EVERY),
        )
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                sql.Identifier(backup), sql.Identifier(events)
            )
        )
    chainer = EventChainer(container.pool, events_table=events, chain_table=chain, mac_key=MAC_KEY)
    chainer.catch_up()
    with container.pool.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT position, hash, mac FROM {} ORDER BY position").format(
                sql.Identifier(chain)
            )
        ).fetchall()
        hashes = {p: bytes(h) for p, h, _ in rows}
        macs = {p: bytes(m) for p, _, m in rows}
    yield {"events": events, "chain": chain, "backup": backup, "hashes": hashes, "macs": macs}
    with container.pool.connection() as conn:
        for name in (events, chain, backup):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def _trusted_point(hashes: dict[int, bytes], position: int) -> tuple[int, bytes]:
    start = max(0, (position - 1) // TRUST_STRIDE * TRUST_STRIDE)
    while start > 0 and start not in hashes:
        start -= 1
    return start, hashes.get(start, GENESIS)


class Tamperer:
    def __init__(self, conn, tables):
        self.conn = conn
        self.ev = sql.Identifier(tables["events"])
        self.ch = sql.Identifier(tables["chain"])
        self.bk = sql.Identifier(tables["backup"])
        self.positions = sorted(tables["hashes"])
        self.macs = tables["macs"]
        self.head = self.positions[-1]

    def q(self, text, params=()):
        return self.conn.execute(sql.SQL(text).format(ev=self.ev, ch=self.ch, bk=self.bk), params)

    def state(self, p: int) -> bytes:
        return bytes(
            self.q("SELECT state FROM {ev} WHERE notification_id = %s", (p,)).fetchone()[0]
        )

    def flip(self, p: int, part: bytes) -> int:
        """Change one byte inside the data (``"d"``) or metadata (``"m"``) part of event p."""
        state = bytearray(self.state(p))
        start = state.index(part)
        i = random.randrange(start + len(part), start + len(part) + 8)
        state[i] = (state[i] + 1) % 256 or 1
        self.q("UPDATE {ev} SET state = %s WHERE notification_id = %s", (bytes(state), p))
        return p

    def restore_rows(self, lo: int, hi: int) -> None:
        self.q("DELETE FROM {ev} WHERE notification_id BETWEEN %s AND %s", (lo, hi))
        self.q(
            "INSERT INTO {ev} SELECT * FROM {bk} WHERE notification_id BETWEEN %s AND %s", (lo, hi)
        )

    def restore_chain(self, hashes: dict[int, bytes], lo: int) -> None:
        self.q("DELETE FROM {ch} WHERE position >= %s", (lo,))
        with self.conn.cursor().copy(
            sql.SQL("COPY {} (position, hash, mac) FROM STDIN").format(self.ch)
        ) as copy:
            for p in self.positions:
                if p >= lo:
                    copy.write_row((p, hashes[p], self.macs[p]))


def _tamper(t: Tamperer, kind: str, hashes: dict[int, bytes]):
    """Apply one tampering; return (expected first bad position, undo)."""
    positions = t.positions
    p = random.choice(positions[1:-1])
    if kind in ("data", "metadata"):
        t.flip(p, b'"d"' if kind == "data" else b'"m"')
        return p, lambda: t.restore_rows(p, p)
    if kind == "delete":
        t.q("DELETE FROM {ev} WHERE notification_id = %s", (p,))
        return p, lambda: t.restore_rows(p, p)
    if kind == "swap":
        q = random.choice([x for x in positions[positions.index(p) + 1 :][:50]])
        t.q(
            "UPDATE {ev} SET notification_id = CASE notification_id WHEN %s THEN %s ELSE %s END "
            "WHERE notification_id IN (%s, %s)",
            (p, q, p, p, q),
        )
        return p, lambda: t.restore_rows(p, q)
    if kind == "forge":
        gap = random.randrange(1, t.head // GAP_EVERY) * GAP_EVERY
        t.q(
            "INSERT INTO {ev} VALUES (%s, %s, 1, 'order.Forged', %s)",
            (gap, uuid.uuid4(), b'{"v":1,"m":{},"d":{"refund":"9999.00"}}'),
        )
        return gap, lambda: t.q("DELETE FROM {ev} WHERE notification_id = %s", (gap,))
    if kind in ("truncate", "rewrite"):
        p = random.choice(positions[-TAIL:-1])
    if kind == "truncate":
        while p - 1 not in hashes:
            p = random.choice(positions[-TAIL:-1])
        t.q("DELETE FROM {ev} WHERE notification_id >= %s", (p,))
        t.q("DELETE FROM {ch} WHERE position >= %s", (p,))

        def undo():
            t.restore_rows(p, t.head)
            t.restore_chain(hashes, p)

        return p, undo
    # rewrite: change event p and every later one, then recompute the chain from p
    t.q(
        "UPDATE {ev} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'\"n\": ', '\"n\": 1'), 'UTF8') WHERE notification_id >= %s",
        (p,),
    )
    rows = t.q(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {ev} "
        "WHERE notification_id >= %s ORDER BY notification_id",
        (p,),
    ).fetchall()
    previous = hashes[positions[positions.index(p) - 1]]
    forged = []
    for pos, sid, ver, topic, state in rows:
        previous = link(previous, pos, sid, ver, topic, state)
        forged.append((pos, previous, t.macs[pos]))  # no key: the old MACs are all it has
    t.q("DELETE FROM {ch} WHERE position >= %s", (p,))
    copy_sql = sql.SQL("COPY {} (position, hash, mac) FROM STDIN").format(t.ch)
    with t.conn.cursor().copy(copy_sql) as cp:
        for row in forged:
            cp.write_row(row)

    def undo_rewrite():
        t.restore_rows(p, t.head)
        t.restore_chain(hashes, p)

    return p, undo_rewrite


def test_the_untouched_chain_verifies_from_the_start_and_through_its_checkpoint(
    container, tables, tmp_path: Path
):
    key = load_or_create_key(tmp_path / "key.pem")
    head = max(tables["hashes"])
    write_checkpoint(tmp_path / "cp.json", head, tables["hashes"][head], key, datetime.now(UTC))
    report = verify(
        container.pool,
        checkpoint=read_checkpoint(tmp_path / "cp.json"),
        events_table=tables["events"],
        chain_table=tables["chain"],
        mac_key=MAC_KEY,
    )
    assert report.ok and report.first_bad_position is None
    assert report.events_checked == len(tables["hashes"]) >= 10_000
    assert report.head == head


def test_a_thousand_random_tamperings_are_each_found_at_their_first_position(
    container, tables, tmp_path: Path
):
    random.seed(20261128)
    hashes = tables["hashes"]
    head = max(hashes)
    key = load_or_create_key(tmp_path / "key.pem")
    write_checkpoint(tmp_path / "cp.json", head, hashes[head], key, datetime.now(UTC))
    checkpoint = read_checkpoint(tmp_path / "cp.json")
    found: dict[str, int] = dict.fromkeys(KINDS, 0)
    with container.pool.connection() as conn:
        t = Tamperer(conn, tables)
        for i in range(1000):
            kind = KINDS[i % len(KINDS)]
            expected, undo = _tamper(t, kind, hashes)
            after, previous = _trusted_point(hashes, expected)
            report = verify(
                container.pool,
                checkpoint=checkpoint,
                after=after,
                previous=previous,
                events_table=tables["events"],
                chain_table=tables["chain"],
                mac_key=MAC_KEY,
            )
            assert not report.ok, (kind, expected)
            assert report.first_bad_position == expected, (kind, report)
            if kind == "rewrite":
                # Without the MAC key the rewritten chain is self-consistent: only the signed
                # checkpoint exposes it, at the checkpoint's position.
                keyless = verify(
                    container.pool,
                    checkpoint=checkpoint,
                    after=after,
                    previous=previous,
                    events_table=tables["events"],
                    chain_table=tables["chain"],
                )
                assert (keyless.ok, keyless.first_bad_position) == (False, checkpoint.position)
                assert keyless.problem == "checkpoint_mismatch"
            found[kind] += 1
            undo()
    assert sum(found.values()) == 1000 and all(found.values())
    restored = verify(
        container.pool,
        checkpoint=checkpoint,
        events_table=tables["events"],
        chain_table=tables["chain"],
        mac_key=MAC_KEY,
    )
    assert restored.ok


def test_a_checkpoint_with_a_forged_signature_is_refused(tmp_path: Path):
    key = load_or_create_key(tmp_path / "key.pem")
    path = tmp_path / "cp.json"
    write_checkpoint(path, 10, b"\x01" * 32, key, datetime.now(UTC))
    path.write_bytes(path.read_bytes().replace(b'"position": 10', b'"position": 11'))
    with pytest.raises(CheckpointInvalid):
        read_checkpoint(path)
    other = load_or_create_key(tmp_path / "other.pem")
    write_checkpoint(path, 10, b"\x01" * 32, other, datetime.now(UTC))
    with pytest.raises(CheckpointInvalid):
        from audit.checkpoint import public_key_of

        read_checkpoint(path, trusted_public_key=public_key_of(key))
