"""The hash chain over the global event order, as pure functions.

Each chained event's hash is ``sha256(previous hash || canonical row)``; the first event's
previous hash is 32 zero bytes. The canonical row is a fixed, length-prefixed binary encoding of
exactly what the store holds: position, stream id, version, topic and the state bytes (data and
metadata). Personal data is stored encrypted, so the chain covers ciphertext and still verifies
after a customer's key is destroyed.

``walk`` compares rows read back (event columns joined with the stored chain hash) with the
chain recomputed from them and reports the first position where they disagree.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)
_HEAD = struct.Struct(">q16sqI")


def canonical(
    position: int, stream_id: UUID, version: int, topic: str, state: bytes | memoryview
) -> bytes:
    topic_b = topic.encode()
    return (
        _HEAD.pack(position, stream_id.bytes, version, len(topic_b))
        + topic_b
        + struct.pack(">I", len(state))
        + bytes(state)
    )


def link(
    previous: bytes,
    position: int,
    stream_id: UUID,
    version: int,
    topic: str,
    state: bytes | memoryview,
) -> bytes:
    h = hashlib.sha256(previous)
    h.update(canonical(position, stream_id, version, topic, state))
    return h.digest()


@dataclass(frozen=True)
class ChainRow:
    """An event joined with its chain entry; ``None`` on either side when one is missing."""

    position: int
    stream_id: UUID | None
    version: int | None
    topic: str | None
    state: bytes | None
    hash: bytes | None


@dataclass
class WalkResult:
    ok: bool
    events_checked: int
    last_position: int
    last_hash: bytes
    first_bad_position: int | None = None
    problem: str | None = None


def walk(
    rows: Iterable[ChainRow], *, previous: bytes = GENESIS, after: int = 0, chained_up_to: int
) -> WalkResult:
    """Recompute the chain over ``rows`` (position order, positions in ``(after,
    chained_up_to]``) and stop at the first disagreement."""
    result = WalkResult(True, 0, after, previous)
    for row in rows:
        if row.position > chained_up_to:
            break
        if row.hash is None:
            return _bad(result, row.position, "event_without_chain_entry")
        if row.state is None or row.stream_id is None:
            return _bad(result, row.position, "event_missing")
        h = link(result.last_hash, row.position, row.stream_id, row.version, row.topic, row.state)
        if h != bytes(row.hash):
            return _bad(result, row.position, "hash_mismatch")
        result.events_checked += 1
        result.last_position = row.position
        result.last_hash = h
    return result


def _bad(result: WalkResult, position: int, problem: str) -> WalkResult:
    result.ok = False
    result.first_bad_position = position
    result.problem = problem
    return result
