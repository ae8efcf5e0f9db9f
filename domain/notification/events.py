"""Events of a Notification stream (its id derived from the source event and the channel:
``domain.notification.ids.notification_stream``) and of a template's stream.

A notification moves ``queued → sent → delivered``; a send that fails is ``failed`` with a
``retry_at`` while attempts remain (the sender queues it again when it is due) and ``failed``
for good after the last one; staff may queue a failed one again. The rendered message and its
recipient are personal data, stored encrypted under the customer's key."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from domain.events import DomainEvent

Channel = Literal["email", "sms"]


class NotificationEvent(DomainEvent):
    stream_type: ClassVar[str] = "notification"


class NotificationQueued(NotificationEvent):
    personal_data_fields: ClassVar[tuple[str, ...]] = ("to", "subject", "text", "html")
    personal_data_subject: ClassVar[str] = "customer_id"

    channel: Channel
    template: str
    to: str
    subject: str
    text: str
    html: str | None = None
    customer_id: UUID
    order_id: UUID | None = None
    #: The event that caused it: ``<stream id>@<version>``, and its position in the log.
    source_event_id: str
    source_position: int
    #: What the provider deduplicates on: the email's Message-ID, the SMS idempotency key.
    message_key: str
    queued_at: datetime


class NotificationSent(NotificationEvent):
    """Handed to the provider (attempt ``attempt``); its outcome follows."""

    attempt: int
    sent_at: datetime


class NotificationDelivered(NotificationEvent):
    delivered_at: datetime
    #: How the outcome was learned: ``accepted`` (the provider's answer), ``found`` (a send
    #: whose answer was lost, found at the provider under its key).
    via: str = "accepted"


class NotificationFailed(NotificationEvent):
    attempt: int
    error: str
    failed_at: datetime
    #: When the sender will queue it again; None: failed for good (staff may retry).
    retry_at: datetime | None = None


class NotificationRequeued(NotificationEvent):
    requeued_at: datetime
    requeued_by: str


class NotificationTemplateEvent(DomainEvent):
    stream_type: ClassVar[str] = "notification_template"


class NotificationTemplateChanged(NotificationTemplateEvent):
    name: str
    subject: str
    body: str
    changed_at: datetime
    changed_by: str


NOTIFICATION_EVENTS = (
    NotificationQueued,
    NotificationSent,
    NotificationDelivered,
    NotificationFailed,
    NotificationRequeued,
)
TEMPLATE_EVENTS = (NotificationTemplateChanged,)
