-- The Merkle tree over the log (RFC 9162), stored so that any root, inclusion proof and
-- consistency proof reads O(log n) rows: one row per complete, aligned subtree. Level 0 holds
-- the leaf hashes (index = position - 1, one leaf per position, holes included); the node at
-- (level, index) covers the leaves [index * 2^level, (index + 1) * 2^level). A node is written
-- once, when its last leaf arrives, by the chainer (audit/chainer.py) in the transaction that
-- extends the hash chain, so the tree's size is always the chain's head position.
CREATE TABLE IF NOT EXISTS merkle_nodes (
    level smallint NOT NULL,
    index bigint   NOT NULL,
    hash  bytea    NOT NULL,
    PRIMARY KEY (level, index)
);
