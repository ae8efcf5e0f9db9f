"""Our mapper: pydantic domain events to the library's ``StoredEvent`` and back, with orjson.

The stored ``topic`` is the event's stable stored name (``order.OrderPlaced``), never an import
path. The stored ``state`` is one JSON object: ``{"v": schema version, "m": metadata, "d": data}``.
Reading upcasts ``d`` from its stored version to the class's current version.

Personal data (``eventstore/privacy.py``): with a key ring, the leaves an event class names in
``personal_data_fields`` are stored encrypted under the key of its ``personal_data_subject``,
and the body carries ``"p": subject`` (``"@stream_owner"`` as the subject means the customer
that the stream's first personal event named); reading decrypts them, or yields the erased
marker once the key is destroyed. Bodies without ``"p"`` take no extra work.

An event holding NUL is refused (``refuse_nul``): PostgreSQL cannot store it as text.

``to_stored`` gives a ``StampedEvent``: beside the state, the metadata the event feed filters
on, which the appender writes to columns of their own (migration 033) so that indexing an
event never parses its JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from domain.errors import InvalidCommand
from domain.events import DomainEvent
from eventstore import privacy
from eventstore.recorded import EventMeta, RecordedEvent

FORGOTTEN_TOPIC = "customer.CustomerForgotten"


class UnknownEventType(LookupError):
    pass


@dataclass(frozen=True)
class StampedEvent(StoredEvent):
    """A stored event and a copy of its metadata for the event table's columns
    (``occurred_at``, ``actor``, ``correlation_id``; migration 033). The state stays the
    record; a time without an offset is left to the state (NULL: the index parses it)."""

    occurred_at: datetime | None = None
    actor: str | None = None
    correlation_id: str | None = None


#: A NUL as orjson writes it (``\u0000``), not preceded by an escaped backslash.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def refuse_nul(state: bytes, event: DomainEvent) -> None:
    """The store's second line of defence behind the API's text check (``api.text_hygiene``):
    an event holding NUL, which PostgreSQL ``text`` and ``jsonb`` cannot take, is never
    written (it would stall every view that copies the string). A lone surrogate cannot get
    this far: orjson refuses to encode it. One substring search per event."""
    if b"\\u0000" in state and _NUL.search(state):
        raise InvalidCommand(
            f"{event.stored_name()} holds a NUL character, which cannot be stored as text.",
            code="invalid_text",
        )


class EventRegistry:
    """Stored name -> event class, built explicitly by the composition root."""

    def __init__(self, classes: Iterable[type[DomainEvent]] = ()):
        self._by_name: dict[str, type[DomainEvent]] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> None:
        name = cls.stored_name()
        existing = self._by_name.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"Stored name {name!r} is used by {existing} and {cls}")
        if not cls.stream_type:
            raise ValueError(f"{cls} has no stream_type")
        self._by_name[name] = cls

    def get(self, name: str) -> type[DomainEvent] | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return sorted(self._by_name)


@dataclass
class PersonalWrites:
    """What an append writes with its events for their personal data: the links of streams
    to the customers whose keys protect them, and the keys it made for new customers."""

    links: list[tuple[UUID, UUID]] = field(default_factory=list)
    keys: dict[str, bytes] = field(default_factory=dict)

    def link(self, stream_id: UUID, subject: str) -> None:
        link = (stream_id, UUID(subject))
        if link not in self.links:
            self.links.append(link)


class EventMapper:
    def __init__(self, registry: EventRegistry, keyring: privacy.KeyRing | None = None):
        self.registry = registry
        self.keyring = keyring

    def to_stored(
        self,
        stream_id: UUID,
        version: int,
        event: DomainEvent,
        meta: EventMeta,
        personal: PersonalWrites | None = None,
    ) -> StoredEvent:
        """The event as stored. With ``personal``, a stream's link to the owner of its
        personal data, when it can wait (the key is cached: ``KeyRing.link_later``), and a
        new customer's key, when this writer may make it (``KeyRing.proposed_key``), are
        added there for the caller to write in the events' own transaction (and to report
        with ``written`` once committed); without, they are written now."""
        body: dict[str, Any] = {
            "v": event.schema_version,
            "m": meta.as_json(),
            "d": event.model_dump(mode="json"),
        }
        paths = privacy.personal_paths(type(event))
        subject = self._subject(stream_id, event, personal) if paths and self.keyring else None
        if subject is not None:
            refuse_nul(orjson.dumps(body), event)  # before its personal leaves are encrypted
            made = personal.keys.get(subject) if personal is not None else None
            key = made if made is not None else self.keyring.key_for_write(subject)
            privacy.map_paths(
                body["d"], paths, lambda leaf: privacy.encrypt_leaf(key, subject, leaf)
            )
            body["p"] = subject
        state = orjson.dumps(body)
        if subject is None:
            refuse_nul(state, event)
        return StampedEvent(
            originator_id=stream_id,
            originator_version=version,
            topic=event.stored_name(),
            state=state,
            occurred_at=meta.occurred_at if meta.occurred_at.tzinfo is not None else None,
            actor=meta.actor,
            correlation_id=meta.correlation_id,
        )

    def _subject(
        self, stream_id: UUID, event: DomainEvent, personal: PersonalWrites | None
    ) -> str | None:
        """Whose key protects the event's personal data (None: no owner known, stored as is)."""
        attr = event.personal_data_subject
        if attr == privacy.STREAM_OWNER:
            return self.keyring.owner_of_stream(stream_id)
        subject = str(getattr(event, attr))
        if personal is not None:
            if self.keyring.link_later(stream_id, subject):
                personal.link(stream_id, subject)
                return subject
            if subject not in personal.keys:
                key = self.keyring.proposed_key(subject)
                if key is not None:
                    personal.keys[subject] = key
            if subject in personal.keys:
                personal.link(stream_id, subject)
                return subject
        self.keyring.link_stream(stream_id, subject)
        return subject

    def written(self, personal: PersonalWrites) -> None:
        """``personal`` (from ``to_stored``) was committed with its events."""
        if self.keyring is not None:
            self.keyring.made(personal.keys.items())
            for stream_id, customer_id in personal.links:
                self.keyring.linked(stream_id, str(customer_id))

    def to_recorded_many(
        self, rows: Sequence[tuple[int | None, UUID, int, str, bytes | memoryview]]
    ) -> list[RecordedEvent]:
        """Decode many rows (position, stream id, version, topic, state); the keys of every
        data subject among them are fetched in one query first."""
        bodies = [orjson.loads(r[4]) for r in rows]
        if self.keyring is not None:
            self.keyring.prefetch({b["p"] for b in bodies if "p" in b})
        return [
            self._from_body(r[0], r[1], r[2], r[3], body)
            for r, body in zip(rows, bodies, strict=True)
        ]

    def to_recorded(
        self,
        position: int | None,
        stream_id: UUID,
        version: int,
        topic: str,
        state: bytes | memoryview,
    ) -> RecordedEvent:
        return self._from_body(position, stream_id, version, topic, orjson.loads(state))

    def _from_body(
        self, position: int | None, stream_id: UUID, version: int, topic: str, body: dict
    ) -> RecordedEvent:
        stored_version: int = body["v"]
        data: dict[str, Any] = body["d"]
        cls = self.registry.get(topic)
        if self.keyring is not None:
            subject = body.get("p")
            if subject is not None:
                key = self.keyring.key_for_read(subject)
                privacy.map_paths(
                    data,
                    privacy.personal_paths(cls) or tuple(data),
                    lambda leaf: privacy.decrypt_leaf(key, subject, leaf),
                )
            elif topic == FORGOTTEN_TOPIC:
                self.keyring.forgotten(str(stream_id))
        if cls is not None:
            while stored_version < cls.schema_version:
                upcast = cls.upcasters.get(stored_version)
                if upcast is None:
                    raise UnknownEventType(
                        f"{topic} has no upcaster from schema version {stored_version}"
                    )
                data = upcast(data)
                stored_version += 1
        m = body["m"]
        return RecordedEvent(
            position,
            stream_id if isinstance(stream_id, UUID) else UUID(str(stream_id)),
            topic.partition(".")[0],
            version,
            topic,
            stored_version,
            EventMeta(
                datetime.fromisoformat(m["occurred_at"]),
                m["actor"],
                m["correlation_id"],
                m["causation_id"],
            ),
            data,
            cls,
        )
