"""The Webhook's decisions: each takes the state and the command (and ``now`` for a rotation)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from domain.webhook.events import WebhookDeleted, WebhookRegistered, WebhookSecretRotated
from domain.webhook.state import WebhookState


def endpoint_host(url: str) -> str:
    """The host an endpoint URL names; ``InvalidCommand`` unless it is an absolute http(s) URL
    with a host, no credentials and no fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise InvalidCommand("The webhook URL is not a valid URL.", code="invalid_url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidCommand("A webhook URL must be http or https.", code="invalid_url")
    if not parts.hostname or parts.username is not None or parts.fragment:
        raise InvalidCommand(
            "A webhook URL needs a host, and neither credentials nor a fragment.",
            code="invalid_url",
        )
    del port
    return parts.hostname


def register(
    state: WebhookState, c: RegisterWebhook, known_types: frozenset[str]
) -> list[DomainEvent]:
    if state.status != "new":
        raise Conflict("This webhook exists already.", code="webhook_exists")
    endpoint_host(c.url)
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
