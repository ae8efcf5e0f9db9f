"""The Webhook's commands."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, whole

#: A stored event name as the log spells it (``order.OrderPlaced``).
EventType = Annotated[str, Field(pattern=r"^[a-z_]{1,40}\.[A-Za-z]{1,80}$")]
#: The longest grace during which a rotated-out secret still signs: one week.
MAX_GRACE_S = 7 * 24 * 3600


class RegisterWebhook(Command):
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] | None = None


class RotateWebhookSecret(Command):
    webhook_id: UUID
    #: How long the previous secret keeps signing beside the new one (default one day).
    grace_s: whole(ge=0, le=MAX_GRACE_S) = 86_400  # type: ignore[valid-type]


class DeleteWebhook(Command):
    webhook_id: UUID
