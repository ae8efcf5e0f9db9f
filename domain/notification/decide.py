"""The decisions on notifications and templates: pure, each taking the state, the command and
(where time matters) ``now``. The lifecycle is ``state.ALLOWED``; a move it does not allow is
``IllegalTransition`` (409)."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.customer.contact import valid_email, valid_phone
from domain.errors import IllegalTransition, NotFound
from domain.events import DomainEvent
from domain.notification import commands as cmd
from domain.notification import events as ev
from domain.notification.state import (
    ALLOWED,
    DELIVERED,
    FAILED,
    QUEUED,
    SENT,
    NotificationState,
    TemplateState,
)
from domain.notification.templates import check_name, check_template


def _existing(state: NotificationState, notification_id: object) -> NotificationState:
    if not state.exists:
        raise NotFound(
            f"Notification {notification_id} does not exist.", code="notification_not_found"
        )
    return state


def _move(state: NotificationState, to: str) -> None:
    if to not in ALLOWED[state.status]:
        raise IllegalTransition("notification", state.status, to)


def queue(state: NotificationState, c: cmd.QueueNotification, now: datetime) -> list[DomainEvent]:
    """Queued once: a notification that exists already (the same source event and channel)
    is not queued again."""
    if state.exists:
        return []
    (valid_email if c.channel == "email" else valid_phone)(c.to)
    return [ev.NotificationQueued(**c.model_dump(exclude={"notification_id"}), queued_at=now)]


def record_sent(state: NotificationState, c: cmd.RecordNotificationSent, now: datetime):
    _move(_existing(state, c.notification_id), SENT)
    return [ev.NotificationSent(attempt=state.attempts + 1, sent_at=now)]


def record_delivered(state: NotificationState, c: cmd.RecordNotificationDelivered, now: datetime):
    if _existing(state, c.notification_id).status == DELIVERED:
        return []
    _move(state, DELIVERED)
    return [ev.NotificationDelivered(delivered_at=now, via=c.via)]


def record_failed(
    state: NotificationState,
    c: cmd.RecordNotificationFailed,
    now: datetime,
    policy: cmd.RetryPolicy,
) -> list[DomainEvent]:
    """Failed, to be queued again after the policy's delay while attempts remain."""
    _move(_existing(state, c.notification_id), FAILED)
    attempt = state.attempts
    retry_at = None
    if not c.permanent and attempt < policy.attempts:
        retry_at = now + timedelta(seconds=policy.delay_s(attempt))
    return [
        ev.NotificationFailed(
            attempt=attempt, error=c.error[:500], failed_at=now, retry_at=retry_at
        )
    ]


def requeue(
    state: NotificationState, c: cmd.RequeueNotification, now: datetime, *, by: str
) -> list[DomainEvent]:
    """The sender's requeue of a failure whose retry is due; nothing when it is not (yet)."""
    _existing(state, c.notification_id)
    if state.status != FAILED or state.retry_at is None or state.retry_at > now:
        return []
    return [ev.NotificationRequeued(requeued_at=now, requeued_by=by)]


def retry(
    state: NotificationState, c: cmd.RetryNotification, now: datetime, *, by: str
) -> list[DomainEvent]:
    """Staff's retry: only a failed notification is queued again."""
    _move(_existing(state, c.notification_id), QUEUED)
    return [ev.NotificationRequeued(requeued_at=now, requeued_by=by)]


def change_template(
    state: TemplateState, c: cmd.ChangeNotificationTemplate, now: datetime, *, by: str
) -> list[DomainEvent]:
    """A template that renders against the sample context; the same text again changes nothing."""
    check_name(c.name)
    check_template(c.subject, c.body)
    if state.changed and (state.subject, state.body) == (c.subject, c.body):
        return []
    return [
        ev.NotificationTemplateChanged(
            name=c.name, subject=c.subject, body=c.body, changed_at=now, changed_by=by
        )
    ]
