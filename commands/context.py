"""What every command carries besides its own fields: who, when, why (correlation and
causation), and its idempotency key; and the clock a decider reads its "when" from.

Why, as every event's metadata records it: the correlation id is the id of the request that
started the work (an HTTP request's ``X-Request-Id``, which is the caller's
``X-Correlation-ID`` when sent), kept by every step a process manager takes because of it; the
causation id is that request's id for what the request decides, and for a process manager's
step the id of the event that triggered it, spelled ``<stream id>@<version>`` (``event_id``).

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


def event_id(stream_id: UUID, version: int) -> str:
    """The one spelling of an event's id in a causation: ``<stream id>@<version>``."""
    return f"{stream_id}@{version}"


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who sends a command, when, and why: ``correlation_id`` is the id of the request that
    started the work (kept by every process-manager step that follows from it) and
    ``causation_id`` what caused this command: that request's id, or for a process
    manager's step the id of the event it reacts to (``event_id``)."""

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
        request_id: str | None = None,
        idempotency: Idempotency | None = None,
        expected_version: int | None = None,
    ) -> CommandContext:
        """The context of a command a request makes: ``request_id`` (the HTTP request's
        ``X-Request-Id``; a new id when none is given, as for a command run from the ``ecom``
        command) is both its correlation and its causation."""
        request_id = request_id or str(uuid4())
        return cls(
            actor=actor,
            now=now or datetime.now(UTC),
            correlation_id=request_id,
            causation_id=request_id,
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
