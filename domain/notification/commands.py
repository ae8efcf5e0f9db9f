"""Commands on notifications and their templates. ``QueueNotification`` and the ``Record…``
commands come from the notification managers (``commands/notification_queuer.py``,
``commands/notification_sender.py``); staff send ``RetryNotification`` and
``ChangeNotificationTemplate``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command
from domain.notification.events import Channel
from domain.notification.templates import MAX_BODY, MAX_SUBJECT


class QueueNotification(Command):
    notification_id: UUID
    channel: Channel
    template: str
    to: str
    subject: str
    text: str
    html: str | None = None
    customer_id: UUID
    order_id: UUID | None = None
    source_event_id: str
    source_position: int
    message_key: str


class RecordNotificationSent(Command):
    notification_id: UUID


class RecordNotificationDelivered(Command):
    notification_id: UUID
    via: str = "accepted"


class RecordNotificationFailed(Command):
    notification_id: UUID
    error: str
    #: A failure no retry can mend (an erased or invalid recipient): failed for good at once.
    permanent: bool = False


class RequeueNotification(Command):
    """The sender queues a failed notification again when its ``retry_at`` is due."""

    notification_id: UUID


class RetryNotification(Command):
    """Staff queue a failed notification again (its attempts start over)."""

    notification_id: UUID


class ChangeNotificationTemplate(Command):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    subject: Annotated[str, Field(max_length=MAX_SUBJECT)]
    body: Annotated[str, Field(max_length=MAX_BODY)]


class RetryPolicy:
    """How many sends a notification gets and how long it waits between them: ``first_s``
    doubled after each failure, at most ``max_s``."""

    def __init__(self, attempts: int = 5, first_s: float = 1.0, max_s: float = 300.0):
        self.attempts, self.first_s, self.max_s = attempts, first_s, max_s

    def delay_s(self, attempt: int) -> float:
        return min(self.first_s * 2 ** max(0, attempt - 1), self.max_s)
