"""What every command carries besides its own fields: who, when, why, and its idempotency key;
and the clock a decider reads its "when" from.

A command is stamped when it is decided, by whoever decides it: an HTTP request when it
arrives, a process manager when it takes up an event (never the triggering event's time). The
composition root owns the clock (``composition/bootstrap.py``) and hands it to the process managers;
tests pass one they control."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventstore.recorded import EventMeta

#: What a decider reads the time from: an aware UTC instant per call.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The machine's clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A key a command is done once under: a repeat of the same request (same principal, key
    and hash) answers the first result. The key is taken even by a request that changed
    nothing, so another request under it is refused."""

    principal: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class CommandContext:
    actor: str
    now: datetime
    correlation_id: str
    causation_id: str
    idempotency: Idempotency | None = None
    expected_version: int | None = None  # from If-Match

    @classmethod
    def new(
        cls,
        actor: str = "system",
        *,
        now: datetime | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        idempotency: Idempotency | None = None,
        expected_version: int | None = None,
    ) -> CommandContext:
        command_id = str(uuid4())
        return cls(
            actor=actor,
            now=now or datetime.now(UTC),
            correlation_id=correlation_id or command_id,
            causation_id=causation_id or command_id,
            idempotency=idempotency,
            expected_version=expected_version,
        )

    def meta(self) -> EventMeta:
        return EventMeta(
            occurred_at=self.now,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command comes to: the stream it wrote, its new version and last position, and
    ``extra``, the handler's answer (kept with an idempotency key and replayed with it)."""

    stream_id: UUID
    version: int
    position: int
    replayed: bool = False
    extra: dict = field(default_factory=dict)
