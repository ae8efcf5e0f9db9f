"""The Webhook's decision state and ``evolve``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.webhook.events import (
    WEBHOOK_EVENTS,
    WebhookDeleted,
    WebhookRegistered,
    WebhookSecretRotated,
)


@dataclass(frozen=True, slots=True)
class WebhookState:
    status: str = "new"  # new | active | deleted
    generation: int = 0  # the secret's generation (0 at registration)


def evolve(state: WebhookState, event: DomainEvent) -> WebhookState:
    match event:
        case WebhookRegistered():
            return WebhookState(status="active", generation=0)
        case WebhookSecretRotated(generation=generation):
            return replace(state, generation=generation)
        case WebhookDeleted():
            return replace(state, status="deleted")
    return state


WEBHOOK = AggregateType("webhook", WebhookState, evolve, WEBHOOK_EVENTS)
