"""The Webhook's events. None carries a secret: a webhook's secret is derived from the
deployment's webhook key, its id and the generation these events count
(``commands/webhook_secrets.py``), so the log, its exports and its readers never hold one."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from domain.events import DomainEvent


class WebhookEvent(DomainEvent):
    stream_type: ClassVar[str] = "webhook"


class WebhookRegistered(WebhookEvent):
    url: str
    event_types: tuple[str, ...]
    description: str | None = None


class WebhookSecretRotated(WebhookEvent):
    """Generation ``generation`` signs from now on; the one before it signs too (a second
    ``v1=``) until ``previous_valid_until``."""

    generation: int
    previous_valid_until: datetime


class WebhookDeleted(WebhookEvent):
    pass


WEBHOOK_EVENTS = (WebhookRegistered, WebhookSecretRotated, WebhookDeleted)
