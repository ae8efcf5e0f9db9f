"""Stream ids of notifications and templates, derived, never drawn: the same source event and
channel always name the same notification stream, which is what makes a second queuing of it
conflict at version 0."""

from __future__ import annotations

from uuid import UUID, uuid5

_NAMESPACE = UUID("6f1c7a52-4be5-4f38-9d7e-2f1b1c0a9e31")


def notification_stream(source_event_id: str, channel: str) -> UUID:
    """The notification of ``source_event_id`` (``<stream id>@<version>``) by ``channel``."""
    return uuid5(_NAMESPACE, f"notification:{source_event_id}:{channel}")


def template_stream(name: str) -> UUID:
    return uuid5(_NAMESPACE, f"template:{name}")


def message_key(notification_id: UUID) -> str:
    """The provider's idempotency key: an email's Message-ID, an SMS request's key."""
    return f"<{notification_id}@notifications.ecom>"
