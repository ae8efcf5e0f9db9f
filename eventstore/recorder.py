"""The library's PostgreSQL application recorder, extended so that an idempotency record is
written in the same transaction as the events it answers for.

The table lock of the library (``LOCK TABLE ... IN EXCLUSIVE MODE``, taken with a lock timeout)
is kept: it makes commit order equal position order, so a tailing reader never passes a gap
that a slower transaction fills later. ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

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
    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            curs.execute(
                f"INSERT INTO {IDEMPOTENCY_TABLE} "
                "(principal, key, request_hash, stream_id, version, result) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    record.principal,
                    record.key,
                    record.request_hash,
                    record.stream_id,
                    record.version,
                    orjson.dumps(record.result).decode(),
                ),
                prepare=True,
            )
