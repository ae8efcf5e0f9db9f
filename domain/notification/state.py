"""The decision state of a notification and of a template, and their folds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.notification import events as ev

QUEUED, SENT, DELIVERED, FAILED = "queued", "sent", "delivered", "failed"
#: The lifecycle: which status may follow which.
ALLOWED = {QUEUED: {SENT, FAILED}, SENT: {DELIVERED, FAILED}, FAILED: {QUEUED}, DELIVERED: set()}


@dataclass(frozen=True, slots=True)
class NotificationState:
    exists: bool = False
    status: str = QUEUED
    channel: str = ""
    attempts: int = 0
    retry_at: datetime | None = None

    @property
    def final(self) -> bool:
        """Nothing more happens to it without staff: delivered, or failed with no retry."""
        return self.status == DELIVERED or (self.status == FAILED and self.retry_at is None)


def evolve(state: NotificationState, event: DomainEvent) -> NotificationState:
    match event:
        case ev.NotificationQueued(channel=channel):
            return NotificationState(exists=True, status=QUEUED, channel=channel)
        case ev.NotificationSent(attempt=attempt):
            return replace(state, status=SENT, attempts=attempt, retry_at=None)
        case ev.NotificationDelivered():
            return replace(state, status=DELIVERED)
        case ev.NotificationFailed(retry_at=retry_at):
            return replace(state, status=FAILED, retry_at=retry_at)
        case ev.NotificationRequeued():
            return replace(state, status=QUEUED, retry_at=None)
    return state


NOTIFICATION = AggregateType("notification", NotificationState, evolve, ev.NOTIFICATION_EVENTS)


@dataclass(frozen=True, slots=True)
class TemplateState:
    changed: bool = False
    subject: str = ""
    body: str = ""


def evolve_template(state: TemplateState, event: DomainEvent) -> TemplateState:
    if isinstance(event, ev.NotificationTemplateChanged):
        return TemplateState(changed=True, subject=event.subject, body=event.body)
    return state


TEMPLATE = AggregateType(
    "notification_template", TemplateState, evolve_template, ev.TEMPLATE_EVENTS
)
