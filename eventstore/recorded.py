"""The envelope of a stored event: who, when, why (correlation and causation) and where it
sits in its stream and in the global order.

Both are immutable named tuples rather than frozen dataclasses: a rebuild decodes tens of
thousands of events a second, and a frozen dataclass costs several microseconds to build."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.events import DomainEvent


class EventMeta(NamedTuple):
    occurred_at: datetime
    actor: str
    correlation_id: str
    causation_id: str

    def as_json(self) -> dict[str, str]:
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }

    def not_before(self, instant: datetime | None) -> EventMeta:
        """This metadata with its time raised to ``instant`` when it is earlier: within a
        stream time never goes back, even when the decider's clock stepped back or is behind
        the clock that stamped the stream's last event."""
        if instant is None or self.occurred_at >= instant:
            return self
        return self._replace(occurred_at=instant)


class RecordedEvent(NamedTuple):
    """One event as read back: ``data`` is already upcast to the current schema version."""

    position: int | None
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    schema_version: int
    meta: EventMeta
    data: dict[str, Any]
    event_class: type[DomainEvent] | None = None
    #: The database clock when the row was inserted (the server's time of writing, beside
    #: the business time ``meta.occurred_at``); None for rows older than that column, and on
    #: the read paths that do not select it (the rebuild's, which no view needs it on).
    recorded_at: datetime | None = None

    @property
    def name(self) -> str:
        """The event name without its stream type (``OrderPlaced``)."""
        return self.type.split(".", 1)[1]

    def to_domain(self) -> DomainEvent:
        if self.event_class is None:
            raise LookupError(f"No event class registered for {self.type!r}")
        return self.event_class.model_validate(self.data)

    def feed_item(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stream_id": str(self.stream_id),
            "stream_type": self.stream_type,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": self.meta.occurred_at.isoformat(),
            "recorded_at": None if self.recorded_at is None else _utc(self.recorded_at),
            "actor": self.meta.actor,
            "correlation_id": self.meta.correlation_id,
            "causation_id": self.meta.causation_id,
            "data": self.data,
        }


def _utc(instant: datetime) -> str:
    """An instant in RFC 3339, in UTC (the session's time zone is the server's to choose)."""
    return instant.astimezone(UTC).isoformat()
