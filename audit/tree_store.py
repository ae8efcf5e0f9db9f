"""The stored Merkle tree over the log (table ``merkle_nodes``, migration 013) and what it serves:
roots, signed tree heads, inclusion and consistency proofs, leaves.

One row per complete, aligned subtree: ``(level, index)`` covers leaves
``[index * 2^level, (index + 1) * 2^level)``, level 0 being the leaf hashes (index =
position − 1; a position without an event has the leaf ``audit.leaf.gap_leaf``). A node is
written once, when its last leaf arrives, so stored rows never change.

``mth(lo, hi)`` over the rows: a range that starts at a multiple of the power of two at or above
its length (every range a root or a proof asks for) is its binary decomposition into at most
log n stored nodes; any other range is split as RFC 9162 splits it (correct, not fast). A proof
first lists the nodes it needs (a dry run of ``audit.merkle``'s generator), reads them in one
query, then computes: one round trip whatever the size.

Growing the tree (``extend``) needs the new leaf hashes and, per level, the stored left sibling
still waiting for its pair (at most one per level): the new nodes are computed in memory
(``grow``) and COPYed in. The chainer calls it in the transaction that extends the hash chain.

The API for other code (the endpoints, the CLI, an exporter): ``TreeStore.size()``,
``root(size)``, ``signed_head(size)``, ``leaf(position)``, ``inclusion(position, size)``,
``consistency(first, second)``, ``public_key()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql
from psycopg_pool import ConnectionPool

from audit import merkle, tree_head
from audit.checkpoint import public_key_of
from audit.leaf import gap_leaf, leaf_bytes

Node = tuple[int, int]  # (level, index)
#: Leaves recomputed per step when checking the stored tree against the events.
CHECK_WINDOW = 16_384


class OutsideTree(ValueError):
    """A position or tree size the stored tree does not reach."""


# ---- pure: which nodes a range needs, and growing the tree -------------------------------


def _aligned(lo: int, n: int) -> bool:
    return n & (n - 1) == 0 and lo % n == 0


def needed(lo: int, hi: int, out: set[Node]) -> None:
    """Add to ``out`` the stored nodes that ``mth(lo, hi)`` reads."""
    n = hi - lo
    if n <= 0:
        return
    if _aligned(lo, n):
        out.add((n.bit_length() - 1, lo // n))
        return
    k = merkle.split(n)
    needed(lo, lo + k, out)
    needed(lo + k, hi, out)


def compute(lo: int, hi: int, nodes: dict[Node, bytes]) -> bytes:
    """``mth(lo, hi)`` from the nodes ``needed`` listed."""
    n = hi - lo
    if n <= 0:
        return merkle.EMPTY_ROOT
    if _aligned(lo, n):
        return nodes[(n.bit_length() - 1, lo // n)]
    k = merkle.split(n)
    return merkle.node_hash(compute(lo, lo + k, nodes), compute(lo + k, hi, nodes))


def frontier(size: int) -> list[Node]:
    """The complete nodes of a tree of ``size`` leaves still waiting for a right sibling: the
    left siblings that growing it pairs with new nodes (one per set bit of ``size``)."""
    out, level = [], 0
    while size >> level:
        count = size >> level
        if count & 1:
            out.append((level, count - 1))
        level += 1
    return out


def grow(
    size: int, leaves: Sequence[bytes], left: dict[Node, bytes]
) -> list[tuple[int, int, bytes]]:
    """The nodes ``(level, index, hash)`` that appending ``leaves`` (leaf hashes) to a tree of
    ``size`` leaves completes, given its ``frontier`` nodes in ``left``."""
    out: list[tuple[int, int, bytes]] = []
    level, lo, hashes = 0, size, list(leaves)
    while hashes:
        out.extend((level, lo + i, h) for i, h in enumerate(hashes))
        if lo & 1:
            hashes.insert(0, left[(level, lo - 1)])
            lo -= 1
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        lo >>= 1
        level += 1
    return out


def leaf_hashes_between(after: int, upto: int, rows: Iterable[tuple]) -> list[bytes]:
    """Leaf hashes of positions ``(after, upto]`` from event rows ``(position, stream_id,
    version, topic, state, recorded_at)`` in position order; holes get the gap leaf."""
    out: list[bytes] = []
    expected = after + 1
    for position, stream_id, version, topic, state, recorded_at in rows:
        if position > upto:
            break
        while expected < position:
            out.append(merkle.leaf_hash(gap_leaf(expected)))
            expected += 1
        leaf = leaf_bytes(position, stream_id, version, topic, state, recorded_at)
        out.append(merkle.leaf_hash(leaf))
        expected = position + 1
    while expected <= upto:
        out.append(merkle.leaf_hash(gap_leaf(expected)))
        expected += 1
    return out


# ---- the store -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    position: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    root_hash: bytes


class TreeStore:
    """The tree in ``table`` (default ``merkle_nodes``) over the events of ``events_table``;
    ``key`` signs tree heads (None: the store serves proofs but no signed heads)."""

    def __init__(
        self,
        pool: ConnectionPool,
        key: Ed25519PrivateKey | None = None,
        *,
        table: str = "merkle_nodes",
        events_table: str = "stored_events",
        clock: Callable[[], float] = time.time,
    ):
        self.pool = pool
        self.key = key
        self.table = sql.Identifier(table)
        self.events = sql.Identifier(events_table)
        self.clock = clock

    # ---- growing (inside the caller's transaction) ------------------------------------------

    def size_in(self, conn: psycopg.Connection) -> int:
        row = conn.execute(
            sql.SQL("SELECT max(index) FROM {} WHERE level = 0").format(self.table)
        ).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def extend(self, conn: psycopg.Connection, size: int, leaves: Sequence[bytes]) -> int:
        """Append ``leaves`` (leaf hashes of positions ``size + 1 …``) to the tree of ``size``
        leaves, in ``conn``'s transaction; return the new size."""
        if not leaves:
            return size
        left = self._read(conn, frontier(size))
        rows = grow(size, leaves, left)
        with conn.cursor(binary=True) as cur:
            with cur.copy(
                sql.SQL("COPY {} (level, index, hash) FROM STDIN (FORMAT BINARY)").format(
                    self.table
                )
            ) as copy:
                copy.set_types(["int2", "int8", "bytea"])
                for row in rows:
                    copy.write_row(row)
        return size + len(leaves)

    def event_rows(self, conn: psycopg.Connection, after: int, upto: int) -> list[tuple]:
        """Event rows ``(position, stream_id, version, topic, state, recorded_at)`` of
        ``(after, upto]`` in position order, as a leaf is built from them."""
        with conn.cursor(binary=True) as cur:
            cur.execute(
                sql.SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state, "
                    "recorded_at FROM {} WHERE notification_id > %s AND notification_id <= %s "
                    "ORDER BY notification_id"
                ).format(self.events),
                (after, upto),
            )
            return cur.fetchall()

    # ---- reading -------------------------------------------------------------------------------

    def _read(self, conn: psycopg.Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
        """The stored nodes ``nodes``, all of them (OutsideTree if one is missing)."""
        wanted = set(nodes)
        found = self._read_some(conn, list(wanted)) if wanted else {}
        if len(found) != len(wanted):
            missing = sorted(wanted - found.keys())[:3]
            raise OutsideTree(f"the stored tree lacks nodes {missing}")
        return found

    def size(self) -> int:
        with self.pool.connection() as conn:
            return self.size_in(conn)

    def _sized(self, conn: psycopg.Connection, size: int | None) -> int:
        current = self.size_in(conn)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise OutsideTree(f"tree size {size} is beyond the tree's {current} leaves")
        return size

    def _mth_over(self, conn: psycopg.Connection, ranges: Iterable[tuple[int, int]]):  # noqa: ANN202
        want: set[Node] = set()
        for lo, hi in ranges:
            needed(lo, hi, want)
        nodes = self._read(conn, want)
        return lambda lo, hi: compute(lo, hi, nodes)

    def mth(self, lo: int, hi: int) -> bytes:
        """The hash of the subtree over leaf indexes ``[lo, hi)`` (``hi`` at most the size)."""
        with self.pool.connection() as conn:
            return self._mth_over(conn, [(lo, hi)])(lo, hi)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` leaves (default: the current size)."""
        with self.pool.connection() as conn:
            size = self._sized(conn, size)
            return self._mth_over(conn, [(0, size)])(0, size)

    def signed_head(self, size: int | None = None) -> dict:
        """The signed tree head ``{tree_size, root_hash, timestamp, signature}`` at ``size``
        (default: the current size), signed now (``audit/tree_head.py``)."""
        if self.key is None:
            raise RuntimeError("this tree store has no signing key")
        with self.pool.connection() as conn:
            size = self._sized(conn, size)
            root = self._mth_over(conn, [(0, size)])(0, size)
        return tree_head.sign(self.key, size, root, int(self.clock() * 1000))

    def public_key(self) -> str:
        """Base64 of the raw 32-byte Ed25519 public key that signs the heads."""
        if self.key is None:
            raise RuntimeError("this tree store has no signing key")
        return public_key_of(self.key)

    def inclusion(self, position: int, size: int | None = None) -> InclusionProof:
        """The audit path of ``position`` in the tree of ``size`` leaves, with its leaf hash
        and that tree's root, read in one query."""
        with self.pool.connection() as conn:
            size = self._sized(conn, size)
            if not 1 <= position <= size:
                raise OutsideTree(f"position {position} is not in a tree of {size} leaves")
            ranges = [(0, size), (position - 1, position)]
            merkle.inclusion_path(position - 1, size, _recording(ranges))
            mth = self._mth_over(conn, ranges)
        return InclusionProof(
            position,
            size,
            mth(position - 1, position),
            merkle.inclusion_path(position - 1, size, mth),
            mth(0, size),
        )

    def consistency(self, first: int, second: int | None = None) -> list[bytes]:
        """The RFC 9162 proof that the tree of ``second`` leaves (default: the current size)
        extends the tree of ``first`` leaves."""
        with self.pool.connection() as conn:
            second = self._sized(conn, second)
            if not 0 <= first <= second:
                raise OutsideTree(f"no consistency proof from {first} to {second}")
            ranges: list[tuple[int, int]] = []
            merkle.consistency_proof(first, second, _recording(ranges))
            mth = self._mth_over(conn, ranges)
        return merkle.consistency_proof(first, second, mth)

    def first_mismatch(self, upto: int, window: int = CHECK_WINDOW) -> tuple[int, str] | None:
        """Recompute the tree over positions ``1..upto`` from the events table, window by
        window, and compare every stored node; return the first position whose leaf (or a
        node above it) disagrees, with ``"leaf_mismatch"`` or ``"node_mismatch"``, or None.
        Memory stays bounded: a window of leaves and the log n left siblings."""
        left: dict[Node, bytes] = {}
        size = 0
        with self.pool.connection() as conn:
            upto = min(upto, self.size_in(conn))
            while size < upto:
                hi = min(upto, size + window)
                leaves = leaf_hashes_between(size, hi, self.event_rows(conn, size, hi))
                computed = grow(size, leaves, left)
                stored = self._read_some(conn, [(lv, ix) for lv, ix, _ in computed])
                bad = [(lv, ix) for lv, ix, h in computed if stored.get((lv, ix)) != h]
                if bad:
                    level, index = min(bad)  # a leaf first, else the lowest node
                    problem = "leaf_mismatch" if level == 0 else "node_mismatch"
                    return (index << level) + 1, problem
                mine = {(lv, ix): h for lv, ix, h in computed}
                size = hi
                left = {node: mine.get(node, left.get(node)) for node in frontier(size)}
        return None

    def _read_some(self, conn: psycopg.Connection, nodes: list[Node]) -> dict[Node, bytes]:
        rows = conn.execute(
            sql.SQL(
                "SELECT n.level, n.index, n.hash FROM {} n "
                "JOIN unnest(%s::int2[], %s::int8[]) AS w(level, index) "
                "ON n.level = w.level AND n.index = w.index"
            ).format(self.table),
            ([lv for lv, _ in nodes], [ix for _, ix in nodes]),
        ).fetchall()
        return {(lv, ix): bytes(h) for lv, ix, h in rows}

    def leaf(self, position: int) -> bytes:
        """The exact bytes of the leaf at ``position`` as the events table holds it now (a
        hole's gap leaf); hashed, it equals the stored leaf unless the event was altered."""
        with self.pool.connection() as conn:
            rows = self.event_rows(conn, position - 1, position)
        if not rows:
            return gap_leaf(position)
        return leaf_bytes(*rows[0])


def _recording(ranges: list[tuple[int, int]]) -> merkle.Mth:
    def mth(lo: int, hi: int) -> bytes:
        ranges.append((lo, hi))
        return b""

    return mth
