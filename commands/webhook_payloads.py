"""The body a delivery POSTs, built from the log when it is sent (the delivery table holds a
reference only): ``{id, position, stream_id, type, occurred_at, data}``, ``id`` being the
event's id ``<stream id>@<version>`` (``commands.context.event_id``), the same on every
attempt, for the receiver's de-duplication.

Personal data never leaves: each leaf an event class names as personal
(``personal_data_fields``, encrypted at rest under its customer's key) is sent as
``"[redacted]"``, decrypted by no one. So a forgotten customer's data cannot linger at a
receiver, every attempt of one event sends the same bytes, and a receiver that needs a name or
an address reads it through the API, which honours a forget. An event of an unknown class that
carries personal data has all its fields redacted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from commands.context import event_id
from eventstore import privacy
from eventstore.mapper import EventMapper
from eventstore.store import EventStore

REDACTED = "[redacted]"


class PayloadBuilder:
    def __init__(self, store: EventStore):
        self.store = store
        self.mapper = EventMapper(store.mapper.registry, None)  # keyless: nothing decrypted

    def bodies(self, positions: Sequence[int]) -> dict[int, bytes]:
        """position → the raw body to send (positions not in the log are absent)."""
        query = (
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.store.table} WHERE notification_id = ANY(%s)"
        )
        with self.store.datastore.get_connection() as conn:
            rows = conn.execute(query, (list(positions),)).fetchall()
        out: dict[int, bytes] = {}
        for r in rows:
            stored = orjson.loads(r["state"])
            e = self.mapper.to_recorded(
                r["notification_id"],
                r["originator_id"],
                r["originator_version"],
                r["topic"],
                r["state"],
            )
            out[e.position] = orjson.dumps(
                {
                    "id": event_id(e.stream_id, e.version),
                    "position": e.position,
                    "stream_id": str(e.stream_id),
                    "type": e.type,
                    "occurred_at": e.meta.occurred_at.isoformat(),
                    "data": redact(e.data, e.event_class, "p" in stored),
                }
            )
        return out


def redact(data: dict[str, Any], cls: type | None, has_subject: bool) -> dict[str, Any]:
    paths = privacy.personal_paths(cls) or (tuple(data) if has_subject else ())
    privacy.map_paths(data, paths, lambda _: REDACTED)
    return data
