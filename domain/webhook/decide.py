"""The Webhook's decisions: each takes the state and the command (and ``now`` for a rotation).
Which URLs may be registered is the handler's check (``commands/webhook_urls.py``): it needs
the URL parsed and its host resolved."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from domain.webhook.events import WebhookDeleted, WebhookRegistered, WebhookSecretRotated
from domain.webhook.state import WebhookState


def register(
    state: WebhookState, c: RegisterWebhook, known_types: frozenset[str]
) -> list[DomainEvent]:
    if state.status != "new":
        raise Conflict("This webhook exists already.", code="webhook_exists")
    unknown = sorted(set(c.event_types) - known_types)
    if unknown:
        raise InvalidCommand(
            f"Unknown event types: {', '.join(unknown)}.",
            code="unknown_event_type",
            details={"event_types": unknown},
        )
    types = tuple(dict.fromkeys(c.event_types))  # first mention kept, repeats dropped
    return [WebhookRegistered(url=c.url, event_types=types, description=c.description)]


def _active(state: WebhookState, webhook_id: UUID) -> WebhookState:
    if state.status != "active":
        raise NotFound(f"Webhook {webhook_id} does not exist.", code="webhook_not_found")
    return state


def rotate_secret(state: WebhookState, c: RotateWebhookSecret, now: datetime) -> list[DomainEvent]:
    current = _active(state, c.webhook_id)
    return [
        WebhookSecretRotated(
            generation=current.generation + 1,
            previous_valid_until=now + timedelta(seconds=c.grace_s),
        )
    ]


def delete(state: WebhookState, c: DeleteWebhook) -> list[DomainEvent]:
    _active(state, c.webhook_id)
    return [WebhookDeleted()]
