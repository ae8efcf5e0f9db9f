"""Turning a Kafka message back into a ``RecordedEvent`` (through the mapper, so upcasting
applies), naming the schemas that read models built from Kafka live in, and the row locks that
views joining several streams take there (several processes of a group apply at once)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from uuid import UUID

import orjson
from psycopg import Cursor
from pydantic import ValidationError

from eventstore.mapper import EventMapper, UnknownEventType
from eventstore.recorded import RecordedEvent


class PoisonEvent(Exception):
    """A message no projection can use: the reason is stored with it in the dead letters."""


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


def decode(mapper: EventMapper, value: bytes) -> RecordedEvent:
    """Decode and validate one envelope; raise ``PoisonEvent`` with a reason if it is unusable.

    Personal leaves arrive encrypted; the envelope's ``personal_data_subject`` goes back into the
    stored body (``"p"``) so the mapper decrypts them with its key ring here, at read time: a
    forgotten customer's leaves decode as the erased marker, as in the store's own reads."""
    try:
        env = orjson.loads(value)
        body = {"v": env["schema_version"], "m": env["metadata"], "d": env["data"]}
        if env.get("personal_data_subject") is not None:
            body["p"] = env["personal_data_subject"]
        state = orjson.dumps(body)
        event_type = env["type"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise PoisonEvent(f"malformed_envelope: {exc}") from None
    if mapper.registry.get(event_type) is None:
        raise PoisonEvent(f"unknown_event_type: no event class is registered for {event_type!r}")
    try:
        recorded = mapper.to_recorded(
            env.get("position"), env["stream_id"], env["version"], event_type, state
        )
    except UnknownEventType as exc:
        raise PoisonEvent(f"unknown_schema_version: {exc}") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise PoisonEvent(f"malformed_envelope: {exc}") from None
    try:
        recorded.to_domain()
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise PoisonEvent(f"invalid_data: {errors}") from None
    return recorded
