"""Where a view's tables live: ``rm_<view>`` when the in-process runner builds it, and
``rk_<group>__<view>`` when a Kafka consumer group does; and the row locks that views joining
several streams take in a group's schema (several processes of a group apply at once)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from uuid import UUID

from psycopg import Cursor


def kafka_schema(group: str, name: str) -> str:
    """The schema of view ``name`` as built by consumer group ``group`` (``rk_<group>__<name>``)."""
    safe = re.sub(r"[^a-z0-9_]", "_", group.lower())
    return f"rk_{safe}__{name}"[:63]


#: Lock stripes per view: ids share a lock when equal modulo this (bounds locks per batch).
LOCK_STRIPES = 256


def is_group_schema(schema: str) -> bool:
    """Whether ``schema`` is a consumer group's (``kafka_schema``), where several processes of
    the group may apply batches at once; an in-process view has one writer (the runner's lock)."""
    return schema.startswith("rk_")


def lock_joined_rows(cur: Cursor, schema: str, ids: Iterable[UUID]) -> None:
    """In a group's schema, before reading the rows ``ids`` of a view that folds several
    streams into one row (an order's document and its payment stream): wait for any other
    process of the group applying to the same rows, so neither overwrites the other's update
    or misses what the other holds for it. Striped transaction advisory locks, taken in order
    (no deadlock between processes that apply their views in the same order). Nothing to do
    in-process."""
    if not is_group_schema(schema):
        return
    space = zlib.crc32(schema.encode()) & 0x7FFF_FFFF
    stripes = sorted({zlib.crc32(i.bytes) % LOCK_STRIPES for i in ids})
    if stripes:
        cur.executemany("SELECT pg_advisory_xact_lock(%s, %s)", [(space, s) for s in stripes])
