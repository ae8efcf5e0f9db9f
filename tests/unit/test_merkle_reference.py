"""The Merkle functions (audit/merkle.py) against RFC 9162's recursive definitions, written out
here independently: roots, audit paths and consistency proofs for every size up to 70, and
verification refusing any changed byte."""

from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit import merkle


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + d[0]).digest()
    k = merkle.split(n)
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = merkle.split(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = merkle.split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


LEAVES = [f"leaf {i}".encode() for i in range(70)]
HASHES = [merkle.leaf_hash(x) for x in LEAVES]


@pytest.mark.parametrize("n", range(0, 71))
def test_root_matches_the_recursive_definition(n):
    assert merkle.root_of(HASHES[:n]) == mth(LEAVES[:n])


@pytest.mark.parametrize("n", range(1, 71))
def test_every_audit_path_matches_and_verifies(n):
    root = mth(LEAVES[:n])
    for m in range(n):
        p = merkle.inclusion_path(m, n, merkle.over(HASHES))
        assert p == path(m, LEAVES[:n])
        assert merkle.verify_inclusion(m, n, HASHES[m], p, root)
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"other"), p, root)


@pytest.mark.parametrize("n", range(1, 71))
def test_every_consistency_proof_matches_and_verifies(n):
    for m in range(1, n + 1):
        p = merkle.consistency_proof(m, n, merkle.over(HASHES))
        assert p == (subproof(m, LEAVES[:n], True) if m < n else [])
        assert merkle.verify_consistency(m, n, mth(LEAVES[:m]), mth(LEAVES[:n]), p)


@given(st.integers(2, 70), st.data())
def test_a_changed_byte_is_refused(n, data):
    m = data.draw(st.integers(1, n - 1))
    first, second = mth(LEAVES[:m]), mth(LEAVES[:n])
    proof = merkle.consistency_proof(m, n, merkle.over(HASHES))
    idx = data.draw(st.integers(0, n - 1))
    ipath = merkle.inclusion_path(idx, n, merkle.over(HASHES))
    which = data.draw(st.sampled_from(["first", "second", "proof", "leaf", "path"]))
    bit = data.draw(st.integers(0, 255))

    def flip(h: bytes) -> bytes:
        return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]

    if which == "first":
        assert not merkle.verify_consistency(m, n, flip(first), second, proof)
    elif which == "second":
        assert not merkle.verify_consistency(m, n, first, flip(second), proof)
    elif which == "proof" and proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:j], flip(proof[j]), *proof[j + 1 :]]
        assert not merkle.verify_consistency(m, n, first, second, bad)
    elif which == "leaf":
        assert not merkle.verify_inclusion(idx, n, flip(HASHES[idx]), ipath, second)
    elif ipath:
        j = data.draw(st.integers(0, len(ipath) - 1))
        bad = [*ipath[:j], flip(ipath[j]), *ipath[j + 1 :]]
        assert not merkle.verify_inclusion(idx, n, HASHES[idx], bad, second)
