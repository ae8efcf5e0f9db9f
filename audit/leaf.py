"""The leaf of the audit Merkle tree: one event as stored, as a canonical UTF-8 JSON record.

The bytes an event contributes to the tree (leaf hash ``SHA-256(0x00 || leaf)``, RFC 9162) are
one JSON object, keys sorted, no spaces, built from the stored row alone:

- ``position``, ``stream_id``, ``stream_type``, ``version``, ``type`` (the stored name),
  ``recorded_at`` (the database clock at insert, RFC 3339 in UTC, or null for rows older than
  that column);
- ``schema_version`` and ``data`` exactly as stored, personal leaves as ciphertext, and
  ``subject`` (whose key encrypts them, or null);
- every metadata field of the stored envelope at the top level: ``occurred_at``, ``actor``,
  ``correlation_id``, ``causation_id``, and any added later.

Nothing is decoded through an event class, so no event's content can make a leaf fail, and
forgetting a customer (destroying a key) never changes a leaf. An auditor reads the leaf
itself: every field an export shows is a field of the leaf (``audit/export.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

#: The fields a leaf carries besides the envelope's metadata (which cannot override them).
ROW_FIELDS = (
    "position",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "recorded_at",
    "schema_version",
    "data",
    "subject",
)


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def leaf_record(
    position: int,
    stream_id: UUID | bytes,
    version: int,
    topic: str,
    state: bytes | memoryview,
    recorded_at: datetime | None,
) -> dict[str, Any]:
    body = orjson.loads(state)
    sid = stream_id if isinstance(stream_id, UUID) else UUID(bytes=bytes(stream_id))
    record: dict[str, Any] = dict(body.get("m") or {})
    record.update(
        position=position,
        stream_id=str(sid),
        stream_type=topic.partition(".")[0],
        version=version,
        type=topic,
        recorded_at=_instant(recorded_at),
        schema_version=body.get("v"),
        data=body.get("d"),
        subject=body.get("p"),
    )
    return record


def encode(record: dict[str, Any]) -> bytes:
    """The canonical bytes of a leaf record: UTF-8 JSON, keys sorted, no spaces."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def leaf_bytes(
    position: int,
    stream_id: UUID | bytes,
    version: int,
    topic: str,
    state: bytes | memoryview,
    recorded_at: datetime | None,
) -> bytes:
    return encode(leaf_record(position, stream_id, version, topic, state, recorded_at))


def gap_leaf(position: int) -> bytes:
    """The leaf of a position that holds no event (a transaction that took a position from the
    sequence and rolled back leaves such a hole): ``{"gap":true,"position":…}``. The tree keeps
    one leaf per position so that leaf index = position − 1 holds whatever the holes."""
    return encode({"gap": True, "position": position})
