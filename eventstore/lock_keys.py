"""Every PostgreSQL advisory lock key the program takes, derived in one place.

A follower of the event log (a read model, a process manager, the audit chainer, the Kafka
relay) takes the key of its kind and name, so that any number of processes may run it while
exactly one advances it. Keys are the first 8 bytes of a BLAKE2b hash of ``kind:name`` (a
signed bigint, as ``pg_advisory_lock(bigint)`` takes), so two followers never share one by
accident; ``tests/unit/test_lock_keys.py`` checks every registered follower against every other.

Two keys are fixed numbers because every version of the program must agree on them: the
migration lock (DDL at start) and the Kafka consumer's schema lock. They sit far below the
hashed ones only by chance of the hash; the test checks them too.
"""

from __future__ import annotations

import hashlib

#: Serialises migrations; fixed so that old and new versions starting at once exclude each other.
MIGRATION = 7_311_001
#: Serialises the Kafka consumer's read-model DDL (``scaleout/consumer.py``).
KAFKA_SCHEMA = 7_311_003
FIXED = {"migration": MIGRATION, "kafka_schema": KAFKA_SCHEMA}

#: The kinds of follower; a key is unique per (kind, name).
PROJECTION, PROCESS, CHAIN, RELAY = "projection", "process", "chain", "relay"
KINDS = (PROJECTION, PROCESS, CHAIN, RELAY)


def key(kind: str, name: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown follower kind {kind!r}")
    digest = hashlib.blake2b(f"{kind}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def projection(name: str) -> int:
    return key(PROJECTION, name)


def process(name: str) -> int:
    return key(PROCESS, name)


def chain(table: str) -> int:
    return key(CHAIN, table)


def relay(prefix: str) -> int:
    return key(RELAY, prefix)


def registered(
    *,
    projections: list[str] = (),  # type: ignore[assignment]
    processes: list[str] = (),  # type: ignore[assignment]
    chains: list[str] = ("event_chain",),  # type: ignore[assignment]
    relays: list[str] = ("",),  # type: ignore[assignment]
) -> dict[str, int]:
    """``kind:name`` -> key for the given followers, plus the fixed keys."""
    out = {f"fixed:{n}": k for n, k in FIXED.items()}
    for kind, names in (
        (PROJECTION, projections),
        (PROCESS, processes),
        (CHAIN, chains),
        (RELAY, relays),
    ):
        for name in names:
            out[f"{kind}:{name}"] = key(kind, name)
    return out
