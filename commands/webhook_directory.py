"""The webhooks the dispatcher serves, folded from the Webhook streams of the log (the write
side, never a read model), with the positions where each began and ended, so that an event is
delivered to exactly the webhooks that existed at its position: those registered before it
and not deleted before it. Refreshed by position (the webhook events after the last one it
folded, one indexed query); safe to share between threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.webhook.events import (
    WEBHOOK_EVENTS,
    WebhookDeleted,
    WebhookRegistered,
    WebhookSecretRotated,
)
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in WEBHOOK_EVENTS)
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Subscription:
    id: UUID
    url: str
    event_types: frozenset[str]
    registered_at: int  # position of its registration
    deleted_at: int | None = None  # position of its deletion
    generation: int = 0
    previous_valid_until: datetime | None = None  # the previous generation signs until then

    def covers(self, event_type: str, position: int) -> bool:
        return (
            event_type in self.event_types
            and self.registered_at < position
            and (self.deleted_at is None or position < self.deleted_at)
        )


class WebhookDirectory:
    def __init__(self, store: EventStore):
        self._store = store
        self._lock = threading.Lock()
        self._position = 0
        self._subs: dict[UUID, Subscription] = {}

    def refresh(self) -> None:
        with self._lock:
            while True:
                events = self._store.read_all(after=self._position, limit=_PAGE, topics=TOPICS)
                for e in events:
                    self._fold(e.stream_id, e.position, e.to_domain())
                    self._position = e.position
                if len(events) < _PAGE:
                    return

    def _fold(self, webhook_id: UUID, position: int, event: object) -> None:
        match event:
            case WebhookRegistered(url=url, event_types=types):
                self._subs[webhook_id] = Subscription(webhook_id, url, frozenset(types), position)
            case WebhookSecretRotated(generation=g, previous_valid_until=until):
                old = self._subs[webhook_id]
                self._subs[webhook_id] = replace(old, generation=g, previous_valid_until=until)
            case WebhookDeleted():
                self._subs[webhook_id] = replace(self._subs[webhook_id], deleted_at=position)

    def get(self, webhook_id: UUID) -> Subscription | None:
        return self._subs.get(webhook_id)

    def live(self) -> list[Subscription]:
        return [s for s in self._subs.values() if s.deleted_at is None]

    def reaching(self, after: int) -> list[Subscription]:
        """The webhooks that may cover an event after position ``after``."""
        return [s for s in self._subs.values() if s.deleted_at is None or s.deleted_at > after]
