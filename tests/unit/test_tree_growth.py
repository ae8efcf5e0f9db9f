"""The stored tree's pure parts (audit/tree_store.py) against the reference functions of
audit/merkle.py: nodes grown chunk by chunk are the complete aligned subtrees of the whole
tree, and ``mth`` over them equals ``merkle.over`` for every range, aligned or not."""

from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.tree_store import compute, frontier, grow, needed

LEAVES = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(600)]


def grown(chunks: list[int]) -> tuple[dict, int]:
    nodes: dict[tuple[int, int], bytes] = {}
    size = 0
    for n in chunks:
        left = {node: nodes[node] for node in frontier(size)}
        for level, index, h in grow(size, LEAVES[size : size + n], left):
            assert (level, index) not in nodes, "a stored node is never written twice"
            nodes[(level, index)] = h
        size += n
    return nodes, size


def mth_of(nodes: dict):
    def mth(lo: int, hi: int) -> bytes:
        want: set = set()
        needed(lo, hi, want)
        return compute(lo, hi, {node: nodes[node] for node in want})

    return mth


@settings(max_examples=200)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_nodes_grown_in_chunks_are_every_complete_aligned_subtree(chunks):
    nodes, size = grown(chunks)
    expected = {
        (level, index) for level in range(size.bit_length()) for index in range(size >> level)
    }
    assert set(nodes) == expected
    ref = merkle.over(LEAVES[:size])
    for (level, index), h in nodes.items():
        assert h == ref(index << level, (index + 1) << level)


@settings(max_examples=100)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=6), st.data())
def test_mth_over_stored_nodes_equals_the_reference_for_any_range(chunks, data):
    nodes, size = grown(chunks)
    ref, mth = merkle.over(LEAVES[:size]), mth_of(nodes)
    for _ in range(20):
        lo = data.draw(st.integers(0, size))
        hi = data.draw(st.integers(lo, size))
        assert mth(lo, hi) == ref(lo, hi)
    assert mth(0, size) == merkle.root_of(LEAVES[:size])


def test_a_proof_at_a_million_leaves_reads_about_two_log_n_nodes():
    size = 1_000_000
    for position in (1, 2, 500_000, 777_777, size):
        ranges: list = [(0, size)]

        def record(lo: int, hi: int, ranges: list = ranges) -> bytes:
            ranges.append((lo, hi))
            return b""

        merkle.inclusion_path(position - 1, size, record)
        merkle.consistency_proof(position, size, record)
        want: set = set()
        for lo, hi in ranges:
            needed(lo, hi, want)
        assert len(want) <= 2 * size.bit_length() + 2
    one: set = set()
    needed(0, size, one)
    assert len(one) == bin(size).count("1")
