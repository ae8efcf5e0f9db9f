"""The hash chain over the global event order, as pure functions.

Each chained event's hash is ``sha256(previous hash || canonical row)``; the first event's
previous hash is 32 zero bytes. The canonical row is a fixed, length-prefixed binary encoding of
exactly what the store holds: position, stream id, version, topic and the state bytes (data and
metadata). Personal data is stored encrypted, so the chain covers ciphertext and still verifies
after a customer's key is destroyed.

Each chain entry also carries a MAC, ``HMAC-SHA256(key, position || hash)``, under a key kept
outside the database (derived from the audit signing key). Whoever can rewrite the tables but
not read that key can recompute hashes but not MACs, so a rewritten tail is found at its first
rewritten position by a verifier holding the key (without the key, only through a checkpoint).

``walk`` compares rows read back (event columns joined with the stored chain hash) with the
chain recomputed from them and reports the first position where they disagree.
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256
from typing import NamedTuple
from uuid import UUID

GENESIS = bytes(32)
_HEAD = struct.Struct(">q16sqI")
_LEN = struct.Struct(">I")


def _id_bytes(stream_id: UUID | bytes) -> bytes:
    return stream_id.bytes if isinstance(stream_id, UUID) else bytes(stream_id)


def canonical(
    position: int, stream_id: UUID | bytes, version: int, topic: str, state: bytes | memoryview
) -> bytes:
    topic_b = topic.encode()
    return b"".join(
        (
            _HEAD.pack(position, _id_bytes(stream_id), version, len(topic_b)),
            topic_b,
            _LEN.pack(len(state)),
            state,
        )
    )


def mac(key: bytes, position: int, chain_hash: bytes) -> bytes:
    return hmac.new(key, position.to_bytes(8, "big") + chain_hash, sha256).digest()


def link(
    previous: bytes,
    position: int,
    stream_id: UUID | bytes,
    version: int,
    topic: str,
    state: bytes | memoryview,
) -> bytes:
    return sha256(previous + canonical(position, stream_id, version, topic, state)).digest()


class ChainRow(NamedTuple):
    """An event joined with its chain entry; ``None`` on either side when one is missing.
    ``stream_id`` is a UUID or its 16 bytes."""

    position: int
    stream_id: UUID | bytes | None
    version: int | None
    topic: str | None
    state: bytes | None
    hash: bytes | None
    mac: bytes | None = None


@dataclass
class WalkResult:
    ok: bool
    events_checked: int
    last_position: int
    last_hash: bytes
    first_bad_position: int | None = None
    problem: str | None = None


def walk(
    rows: Iterable[ChainRow],
    *,
    previous: bytes = GENESIS,
    after: int = 0,
    chained_up_to: int,
    mac_key: bytes | None = None,
) -> WalkResult:
    """Recompute the chain over ``rows`` (position order, positions in ``(after,
    chained_up_to]``) and stop at the first disagreement."""
    result = WalkResult(True, 0, after, previous)
    last_hash, last_position, checked = previous, after, 0
    for position, stream_id, version, topic, state, stored, stored_mac in rows:
        if position > chained_up_to:
            break
        if stored is None:
            return _bad(
                result, checked, last_position, last_hash, position, "event_without_chain_entry"
            )
        if state is None or stream_id is None:
            return _bad(result, checked, last_position, last_hash, position, "event_missing")
        h = link(last_hash, position, stream_id, version, topic, state)
        if h != stored:
            return _bad(result, checked, last_position, last_hash, position, "hash_mismatch")
        if mac_key is not None and (
            stored_mac is None or not hmac.compare_digest(mac(mac_key, position, h), stored_mac)
        ):
            return _bad(result, checked, last_position, last_hash, position, "mac_mismatch")
        checked += 1
        last_position, last_hash = position, h
    result.events_checked, result.last_position, result.last_hash = (
        checked,
        last_position,
        last_hash,
    )
    return result


def _bad(
    result: WalkResult, checked: int, last: int, last_hash: bytes, position: int, problem: str
) -> WalkResult:
    result.ok = False
    result.events_checked, result.last_position, result.last_hash = checked, last, last_hash
    result.first_bad_position = position
    result.problem = problem
    return result
