"""The Merkle tree over the log, as pure functions (RFC 9162, section 2.1).

The tree is over positions 1..N in order (leaf index = position - 1). Leaf hash
``SHA-256(0x00 || leaf)``, node hash ``SHA-256(0x01 || left || right)``, the empty tree's hash
``SHA-256("")``. A tree of n > 1 leaves splits at k, the largest power of two below n.

Proof generation is written against ``mth(lo, hi)``, the hash of the subtree over leaf indexes
``[lo, hi)``: ``over(leaf_hashes)`` gives one for a list held in memory (the reference, O(n)
per call); the stored tree (``audit/tree_store.py``) gives one that reads O(log n) stored
nodes. Verification needs only hashes, and is what an outside verifier re-implements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

Mth = Callable[[int, int], bytes]

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """The root over leaf hashes, bottom up (a lone last node moves up unchanged, which builds
    the same tree as the recursive definition)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def over(hashes: Sequence[bytes]) -> Mth:
    """``mth`` for leaf hashes held in memory."""

    def mth(lo: int, hi: int) -> bytes:
        return root_of(hashes[lo:hi])

    return mth


def inclusion_path(index: int, size: int, mth: Mth, lo: int = 0) -> list[bytes]:
    """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of ``size`` leaves
    (starting at leaf ``lo``), leaf to root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    n = size
    while n > 1:
        k = split(n)
        if index < k:
            path.append(mth(lo + k, lo + n))
            n = k
        else:
            path.append(mth(lo, lo + k))
            lo, index, n = lo + k, index - k, n - k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, mth: Mth) -> list[bytes]:
    """PROOF(first, D[second]): that the tree of ``second`` leaves extends that of ``first``."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    lo, m, n, whole = 0, first, second, True
    while m != n:
        k = split(n)
        if m <= k:
            proof.append(mth(lo + k, lo + n))
            n = k
        else:
            proof.append(mth(lo, lo + k))
            lo, m, n, whole = lo + k, m - k, n - k, False
    if not whole:
        proof.append(mth(lo, lo + m))
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that ``path`` proves leaf hash ``leaf`` at ``index`` into (RFC 9162 2.1.3.2);
    ValueError when the path cannot be a path of that leaf in a tree of that size."""
    if not 0 <= index < size:
        raise ValueError("index out of range")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("path too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    try:
        return root_from_inclusion(index, size, leaf, path) == root
    except ValueError:
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
