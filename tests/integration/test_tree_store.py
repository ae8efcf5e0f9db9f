"""The stored Merkle tree (audit/tree_store.py) on real PostgreSQL: a tree grown in random chunks
answers every range, root, inclusion and consistency proof as the reference functions do over
the same leaves; the chainer grows it from the events it chains (and backfills it for a chain
that predates it, holes included); an altered event no longer hashes to its stored leaf."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from audit import merkle, tree_head
from audit.chainer import EventChainer
from audit.leaf import gap_leaf, leaf_bytes
from audit.tree_store import OutsideTree, TreeStore
from audit.verify import event_head, verify, verify_to_head
from tests.factories import active_product

SIZE = 5_000
KEY = Ed25519PrivateKey.generate()
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _table_like(conn, template: str) -> str:  # noqa: ANN001
    name = f"t_{template}_{uuid.uuid4().hex[:8]}"
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    )
    return name


@pytest.fixture(scope="module")
def synthetic(container):
    """A tree of SIZE random leaf hashes in a table of its own, grown in random chunks."""
    rng = random.Random(7)
    leaves = [rng.randbytes(32) for _ in range(SIZE)]
    with container.pool.connection() as conn:
        table = _table_like(conn, "merkle_nodes")
    tree = TreeStore(container.pool, KEY, table=table)
    size = 0
    while size < SIZE:
        n = min(SIZE - size, rng.choice((1, 2, 3, 17, 250, 1000)))
        with container.pool.connection() as conn, conn.transaction():
            assert tree.size_in(conn) == size
            size = tree.extend(conn, size, leaves[size : size + n])
    yield tree, leaves
    with container.pool.connection() as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


@SETTINGS
@given(st.data())
def test_stored_mth_equals_the_reference_for_any_range(synthetic, data):
    tree, leaves = synthetic
    ref = merkle.over(leaves)
    lo = data.draw(st.integers(0, SIZE))
    hi = data.draw(st.integers(lo, min(SIZE, lo + data.draw(st.sampled_from((1, 7, 64, SIZE))))))
    assert tree.mth(lo, hi) == ref(lo, hi)
    size = data.draw(st.integers(0, SIZE))
    assert tree.root(size) == merkle.root_of(leaves[:size])


@SETTINGS
@given(st.data())
def test_stored_proofs_equal_the_reference_and_verify(synthetic, data):
    tree, leaves = synthetic
    ref = merkle.over(leaves)
    size = data.draw(st.integers(1, SIZE))
    position = data.draw(st.integers(1, size))
    proof = tree.inclusion(position, size)
    assert proof.audit_path == merkle.inclusion_path(position - 1, size, ref)
    assert proof.leaf_hash == leaves[position - 1]
    assert merkle.verify_inclusion(
        position - 1, size, proof.leaf_hash, proof.audit_path, proof.root_hash
    )
    first = data.draw(st.integers(0, size))
    consistency = tree.consistency(first, size)
    assert consistency == merkle.consistency_proof(first, size, ref)
    assert merkle.verify_consistency(
        first, size, merkle.root_of(leaves[:first]), proof.root_hash, consistency
    )
    head = tree.signed_head(size)
    assert head["root_hash"] == proof.root_hash.hex()
    assert tree_head.verify(head, tree.public_key())


def test_sizes_and_positions_beyond_the_tree_are_refused(synthetic):
    tree, _ = synthetic
    with pytest.raises(OutsideTree):
        tree.root(SIZE + 1)
    with pytest.raises(OutsideTree):
        tree.inclusion(SIZE + 1, SIZE)
    with pytest.raises(OutsideTree):
        tree.inclusion(0)
    with pytest.raises(OutsideTree):
        tree.consistency(10, 5)


def _reference_leaves(conn, events: str, upto: int) -> list[bytes]:  # noqa: ANN001
    """Leaf hashes of positions 1..upto rebuilt from the event rows, independently of the
    tree store's own helpers."""
    with conn.cursor(binary=True) as cur:
        cur.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state, "
                "recorded_at FROM {} WHERE notification_id <= %s"
            ).format(sql.Identifier(events)),
            (upto,),
        )
        rows = {r[0]: r for r in cur.fetchall()}
    return [
        merkle.leaf_hash(leaf_bytes(*rows[p]) if p in rows else gap_leaf(p))
        for p in range(1, upto + 1)
    ]


def test_the_chainer_grows_the_tree_with_the_chain(container):
    for _ in range(3):
        active_product(container)
    container.chainer.catch_up()
    tree = container.tree
    with container.pool.connection() as conn:
        position = container.chainer.status().position
        assert tree.size_in(conn) == position > 0
        expected = _reference_leaves(conn, "stored_events", position)
    assert tree.root() == merkle.root_of(expected)
    for p in random.Random(1).sample(range(1, position + 1), min(position, 20)):
        assert tree.inclusion(p).leaf_hash == expected[p - 1]


def _fill(conn, events: str, positions: range, at: datetime | None) -> None:  # noqa: ANN001
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (notification_id, originator_id, originator_version, topic, state, "
            "recorded_at) SELECT i, md5((i %% 40)::text)::uuid, i, 'order.Synthetic', "
            "convert_to(jsonb_build_object('v', 1, 'm', jsonb_build_object('actor', 'a', "
            "'occurred_at', '2026-01-01T00:00:00+00:00'), 'd', jsonb_build_object('n', i))::text,"
            " 'UTF8'), %s FROM generate_series(%s::bigint, %s::bigint) AS i WHERE i %% 7 <> 0"
        ).format(sql.Identifier(events)),
        (at, positions.start, positions.stop - 1),
    )


def test_a_chain_older_than_the_tree_gets_its_tree_backfilled_holes_included(container):
    pool = container.pool
    with pool.connection() as conn:
        events = _table_like(conn, "stored_events")
        chain = _table_like(conn, "event_chain")
        nodes = _table_like(conn, "merkle_nodes")
        _fill(conn, events, range(1, 1_235), None)  # before recorded_at existed
        _fill(conn, events, range(1_235, 1_300), datetime(2026, 5, 1, tzinfo=UTC))
    try:
        old = EventChainer(pool, events_table=events, chain_table=chain, mac_key=b"k" * 32)
        assert old.catch_up() > 0
        tree = TreeStore(pool, KEY, table=nodes, events_table=events)
        assert tree.size() == 0
        new = EventChainer(
            pool,
            events_table=events,
            chain_table=chain,
            mac_key=b"k" * 32,
            tree=tree,
            batch_size=100,
        )
        new.catch_up()  # backfills 1..1299, in batches of 100
        head = old.status().position
        with pool.connection() as conn:
            assert tree.size() == head == 1_299
            assert tree.root() == merkle.root_of(_reference_leaves(conn, events, head))
            _fill(conn, events, range(1_300, 1_500), datetime(2026, 6, 1, tzinfo=UTC))
        new.catch_up()  # the chain and the tree grow together
        with pool.connection() as conn:
            head = new.status().position
            assert head == 1_499 and tree.size() == head
            assert tree.root() == merkle.root_of(_reference_leaves(conn, events, head))
        proof = tree.inclusion(7, head)  # a hole
        assert proof.leaf_hash == merkle.leaf_hash(gap_leaf(7)) == merkle.leaf_hash(tree.leaf(7))
    finally:
        with pool.connection() as conn:
            for name in (events, chain, nodes):
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def _tamper(container, statement: str, params: tuple) -> None:  # noqa: ANN001
    """As an attacker with the database owner's powers: bypass row triggers, rewrite a row."""
    with container.pool.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(statement, params)


@pytest.mark.parametrize(
    "change",
    [
        "state = convert_to(jsonb_set(convert_from(state, 'UTF8')::jsonb, '{d,forged}', "
        "'1')::text, 'UTF8')",
        "state = convert_to(jsonb_set(convert_from(state, 'UTF8')::jsonb, '{m,actor}', "
        "'\"mallory\"')::text, 'UTF8')",
        "recorded_at = recorded_at + interval '1 second'",
        "originator_version = originator_version + 1000",
    ],
    ids=["data", "actor", "recorded_at", "version"],
)
def test_an_altered_event_no_longer_hashes_to_its_stored_leaf(container, change):
    active_product(container)
    container.chainer.catch_up()
    tree = container.tree
    position = event_head(container.pool)
    before = tree.leaf(position)
    proof = tree.inclusion(position)
    assert merkle.leaf_hash(before) == proof.leaf_hash
    with container.pool.connection() as conn:
        saved = conn.execute(
            "SELECT state, recorded_at, originator_version FROM stored_events "
            "WHERE notification_id = %s",
            (position,),
        ).fetchone()
    _tamper(container, f"UPDATE stored_events SET {change} WHERE notification_id = %s", (position,))
    try:
        after = tree.leaf(position)
        assert after != before and merkle.leaf_hash(after) != proof.leaf_hash
        assert not merkle.verify_inclusion(
            position - 1,
            proof.tree_size,
            merkle.leaf_hash(after),
            proof.audit_path,
            proof.root_hash,
        )
    finally:
        _tamper(
            container,
            "UPDATE stored_events SET state = %s, recorded_at = %s, originator_version = %s "
            "WHERE notification_id = %s",
            (*saved, position),
        )
    assert tree.leaf(position) == before


def test_verify_says_ok_only_once_the_chain_reaches_the_head(container):
    container.chainer.catch_up()
    with psycopg.connect(container.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (container.chainer.lock_key,))
        try:
            active_product(container)
            head = event_head(container.pool)
            report = verify_to_head(container.pool, container.chainer, wait_s=0.3)
            assert report.ok is False and report.problem == "unchained"
            assert report.unchained >= 1 and report.head < head
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (container.chainer.lock_key,))
    report = verify_to_head(container.pool, container.chainer, wait_s=5)
    assert report.ok is True and report.head >= head and report.unchained == 0


def test_verify_finds_a_changed_recorded_at_which_only_the_tree_covers(container):
    active_product(container)
    position = event_head(container.pool)
    assert verify_to_head(container.pool, container.chainer).ok is True
    with container.pool.connection() as conn:
        saved = conn.execute(
            "SELECT recorded_at FROM stored_events WHERE notification_id = %s", (position,)
        ).fetchone()[0]
    _tamper(
        container,
        "UPDATE stored_events SET recorded_at = recorded_at - interval '1 day' "
        "WHERE notification_id = %s",
        (position,),
    )
    try:
        assert verify(container.pool, mac_key=container.chainer.mac_key).ok is True  # the chain
        report = verify_to_head(container.pool, container.chainer)
        assert (report.ok, report.first_bad_position, report.problem) == (
            False,
            position,
            "leaf_mismatch",
        )
    finally:
        _tamper(
            container,
            "UPDATE stored_events SET recorded_at = %s WHERE notification_id = %s",
            (saved, position),
        )
    assert verify_to_head(container.pool, container.chainer).ok is True


def test_verify_finds_a_rewritten_inner_node_of_the_tree(container):
    for _ in range(2):
        active_product(container)
    container.chainer.catch_up()
    size = container.tree.size()
    index = (size - 1) // 4 - 1  # a complete level-2 node near the head
    with container.pool.connection() as conn, conn.transaction():
        saved = conn.execute(
            "UPDATE merkle_nodes SET hash = sha256(hash) WHERE level = 2 AND index = %s "
            "RETURNING (SELECT hash FROM merkle_nodes WHERE level = 2 AND index = %s)",
            (index, index),
        ).fetchone()[0]
    try:
        report = verify_to_head(container.pool, container.chainer)
        assert (report.ok, report.first_bad_position, report.problem) == (
            False,
            index * 4 + 1,
            "node_mismatch",
        )
    finally:
        with container.pool.connection() as conn:
            conn.execute(
                "UPDATE merkle_nodes SET hash = %s WHERE level = 2 AND index = %s",
                (saved, index),
            )
    assert verify_to_head(container.pool, container.chainer).ok is True
