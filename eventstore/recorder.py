"""The library's PostgreSQL application recorder, and the idempotency record that is written
in the same transaction as the events it answers for (by ``eventstore.group_commit``).

The table lock of the library (``LOCK TABLE ... IN EXCLUSIVE MODE``, taken with a lock timeout)
is kept: it makes commit order equal position order, so a tailing reader never passes a gap
that a slower transaction fills later. ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder

IDEMPOTENCY_TABLE = "idempotency_keys"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    principal: str
    key: str
    request_hash: str
    stream_id: UUID
    version: int
    result: dict[str, Any]


class EcomRecorder(PostgresApplicationRecorder):
    """The library's recorder: it creates the event table and serves reads and
    subscriptions. Appends do not go through its insert: ``eventstore.group_commit`` writes
    them (with their idempotency records, under the same table lock)."""
