"""Snapshots of long streams: a stream's folded state at a version, kept beside the event log
so that the command path (``commands/executor.py`` ``load``, ``commands/unit_of_work.py``)
reads the latest snapshot and only the events after it.

A snapshot is a cache, never the source of truth: one row per stream (``stream_snapshots``,
migration 010), the higher version kept; deleting any or all rows changes nothing but speed.
Time travel and audits read events, never snapshots. Only aggregate types that set
``snapshot_every`` have them, and those refuse events with personal data at definition (a
snapshot would outlive the customer's key).

Encoding: JSON through a pydantic ``TypeAdapter`` of the state's type, never pickle (decoding
what the database holds must not run code). Each row records its codec's fingerprint: a hash of
the adapter's JSON schema, the aggregate's ``snapshot_version`` and ``CODEC_VERSION``. A row
with another fingerprint (the state's shape or meaning changed since it was written) is ignored.

A snapshot also tells when the stream's event at its version occurred (read with it, from
that event, in the same query), so that a decision loaded from a snapshot alone still stamps
its events no earlier than the stream's last one.

Writing is best effort, after the events' commit, in its own statement: a failure is logged and
the command's answer stands.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Generic, TypeVar
from uuid import UUID

import orjson
from pydantic import TypeAdapter

from domain.aggregate import AggregateType
from eventstore.store import EventStore

log = logging.getLogger(__name__)
S = TypeVar("S")

SNAPSHOT_TABLE = "stream_snapshots"
#: Part of every fingerprint: bump it when the encoding below changes.
CODEC_VERSION = 1


class StateCodec(Generic[S]):
    """An aggregate's state to JSON bytes and back, and the fingerprint of its shape."""

    def __init__(self, aggregate: AggregateType[S]):
        self.adapter: TypeAdapter[S] = TypeAdapter(type(aggregate.initial()))
        schema = orjson.dumps(self.adapter.json_schema(), option=orjson.OPT_SORT_KEYS)
        salt = f"{CODEC_VERSION}:{aggregate.stream_type}:{aggregate.snapshot_version}:"
        self.fingerprint = hashlib.sha256(salt.encode() + schema).hexdigest()[:32]

    def encode(self, state: S) -> bytes:
        return self.adapter.dump_json(state)

    def decode(self, data: bytes) -> S:
        return self.adapter.validate_json(data)


@cache
def codec_of(aggregate: AggregateType[S]) -> StateCodec[S]:
    """Built once per aggregate type (an adapter and its schema take milliseconds)."""
    return StateCodec(aggregate)


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[S]):
    version: int
    state: S
    #: When the stream's event at ``version`` occurred (None if that event cannot be read).
    at: datetime | None = None


def latest(
    store: EventStore, aggregate: AggregateType[S], stream_ids: Iterable[UUID]
) -> dict[UUID, Snapshot[S]]:
    """The snapshot of each stream that has one this code can read, in one query."""
    ids = list(stream_ids)
    if aggregate.snapshot_every is None or not ids:
        return {}
    codec = codec_of(aggregate)
    with store.datastore.get_connection() as conn:
        # Binary results: a hot stream's snapshot is megabytes, and bytea as text is hex.
        # The event at the snapshot's version (one index probe) gives the stream's last time.
        rows = conn.execute(
            f"SELECT s.stream_id, s.version, s.state, e.state AS last_event "
            f"FROM {SNAPSHOT_TABLE} s LEFT JOIN {store.table} e "
            "ON e.originator_id = s.stream_id AND e.originator_version = s.version "
            "WHERE s.stream_id = ANY(%s) AND s.codec = %s",
            (ids, codec.fingerprint),
            binary=True,
        ).fetchall()
    found: dict[UUID, Snapshot[S]] = {}
    for row in rows:
        try:
            state = codec.decode(row["state"])
        except ValueError:  # pydantic's ValidationError: the stream is folded from its start
            log.warning("unreadable snapshot of stream %s ignored", row["stream_id"], exc_info=True)
            continue
        found[row["stream_id"]] = Snapshot(row["version"], state, _occurred_at(row["last_event"]))
    return found


def _occurred_at(body: bytes | None) -> datetime | None:
    """The ``occurred_at`` of a stored event body (its metadata is never encrypted)."""
    if body is None:
        return None
    return datetime.fromisoformat(orjson.loads(body)["m"]["occurred_at"])


def interval(aggregate: AggregateType[S], state: S) -> int:
    """The spacing of ``state``'s snapshots, in events: ``snapshot_every``, doubled until it
    reaches the state's ``snapshot_weight`` (powers of two, so that the multiples of a
    larger spacing are multiples of the smaller ones)."""
    every = aggregate.snapshot_every or 1
    if aggregate.snapshot_weight is None:
        return every
    weight = aggregate.snapshot_weight(state)
    while every < weight:
        every *= 2
    return every


def due(
    aggregate: AggregateType[S], from_version: int, new_version: int, events_read: int, state: S
) -> bool:
    """Whether an append that took a stream from ``from_version`` to ``new_version`` should
    leave a snapshot of ``state`` (its state before or after the append: their sizes differ
    by the append's events): it crossed a multiple of the state's ``interval``, or the load
    before it read that many events (no usable snapshot: a stream from before snapshots, or a
    new codec)."""
    if aggregate.snapshot_every is None or new_version <= from_version:
        return False
    every = interval(aggregate, state)
    return new_version // every > from_version // every or events_read >= every


def save(
    store: EventStore, aggregate: AggregateType[S], states: Mapping[UUID, tuple[int, S]]
) -> None:
    """Keep ``{stream_id: (version, state)}`` as those streams' snapshots, in one statement; a
    snapshot of a higher version with the same codec stays. Best effort: a failure is logged,
    never raised (the events are committed; a snapshot only saves time)."""
    if aggregate.snapshot_every is None or not states:
        return
    try:
        codec = codec_of(aggregate)
        blobs = [codec.encode(state) for _, state in states.values()]
        with store.datastore.get_connection() as conn:
            # Binary parameters: an array of bytea as text is hex, escaped (~6x slower).
            conn.execute(
                f"INSERT INTO {SNAPSHOT_TABLE} AS s (stream_id, version, codec, state) "
                "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
                "codec = excluded.codec, state = excluded.state, created_at = now() "
                "WHERE s.version < excluded.version OR s.codec <> excluded.codec",
                (
                    list(states),
                    [version for version, _ in states.values()],
                    [codec.fingerprint] * len(states),
                    blobs,
                ),
            )
    except Exception:  # noqa: BLE001 - a cache that could not be written
        log.warning("snapshots of %s not written", aggregate.stream_type, exc_info=True)


def forget(store: EventStore, stream_ids: Iterable[UUID] | None = None) -> None:
    """Delete the snapshots of these streams (all, when None): loads then fold from the start."""
    with store.datastore.get_connection() as conn:
        if stream_ids is None:
            conn.execute(f"DELETE FROM {SNAPSHOT_TABLE}")
        else:
            conn.execute(
                f"DELETE FROM {SNAPSHOT_TABLE} WHERE stream_id = ANY(%s)", (list(stream_ids),)
            )
