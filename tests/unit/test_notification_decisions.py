"""Notification decisions, given events, when a command, then events or a refusal; and
templates checked in the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from uuid import uuid4

import pytest

from domain.errors import IllegalTransition, InvalidCommand
from domain.notification import commands as cmd
from domain.notification import decide as d
from domain.notification import events as ev
from domain.notification.ids import message_key, notification_stream
from domain.notification.state import NotificationState, evolve
from domain.notification.templates import DEFAULTS, NAMES, check_template, render, sample_context

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NID = notification_stream(f"{uuid4()}@2", "email")
POLICY = cmd.RetryPolicy(attempts=3, first_s=1.0, max_s=60.0)


def queue_command(channel: str = "email", to: str = "ann@example.com") -> cmd.QueueNotification:
    return cmd.QueueNotification(
        notification_id=NID, channel=channel, template="order_confirmed", to=to, subject="s",
        text="t", customer_id=uuid4(), source_event_id="x@2", source_position=7,
        message_key=message_key(NID),
    )  # fmt: skip


def given(*events) -> NotificationState:  # noqa: ANN002
    return reduce(evolve, events, NotificationState())


QUEUED = ev.NotificationQueued(**queue_command().model_dump(exclude={"notification_id"}),
                               queued_at=NOW)  # fmt: skip


def sent(attempt: int) -> ev.NotificationSent:
    return ev.NotificationSent(attempt=attempt, sent_at=NOW)


def test_the_same_source_event_and_channel_always_name_one_stream():
    assert notification_stream("a@1", "email") == notification_stream("a@1", "email")
    assert notification_stream("a@1", "email") != notification_stream("a@1", "sms")
    assert notification_stream("a@1", "email") != notification_stream("a@2", "email")


def test_queuing_again_writes_nothing():
    assert d.queue(given(QUEUED), queue_command(), NOW) == []


@pytest.mark.parametrize(
    ("channel", "to", "code"),
    [("email", "not-an-address", "invalid_email"), ("sms", "0151 123", "invalid_phone")],
)
def test_a_malformed_address_or_number_is_refused(channel, to, code):
    with pytest.raises(InvalidCommand) as refused:
        d.queue(NotificationState(), queue_command(channel, to), NOW)
    assert refused.value.code == code


def test_a_failed_send_is_retried_with_growing_delays_then_fails_for_good():
    failed = cmd.RecordNotificationFailed(notification_id=NID, error="503")
    state = given(QUEUED, sent(1))
    [first] = d.record_failed(state, failed, NOW, POLICY)
    assert first.retry_at == NOW + timedelta(seconds=1)
    state = given(QUEUED, sent(1), first, ev.NotificationRequeued(requeued_at=NOW, requeued_by="p"),
                  sent(2))  # fmt: skip
    [second] = d.record_failed(state, failed, NOW, POLICY)
    assert second.retry_at == NOW + timedelta(seconds=2)
    state = given(QUEUED, sent(1), first, ev.NotificationRequeued(requeued_at=NOW, requeued_by="p"),
                  sent(2), second, ev.NotificationRequeued(requeued_at=NOW, requeued_by="p"),
                  sent(3))  # fmt: skip
    [last] = d.record_failed(state, failed, NOW, POLICY)
    assert last.retry_at is None and evolve(state, last).final


def test_the_sender_requeues_only_a_failure_whose_retry_is_due():
    failed = ev.NotificationFailed(attempt=1, error="x", failed_at=NOW,
                                   retry_at=NOW + timedelta(seconds=5))  # fmt: skip
    state = given(QUEUED, sent(1), failed)
    c = cmd.RequeueNotification(notification_id=NID)
    assert d.requeue(state, c, NOW, by="p") == []
    assert len(d.requeue(state, c, NOW + timedelta(seconds=5), by="p")) == 1


DELIVERED = ev.NotificationDelivered(delivered_at=NOW)


@pytest.mark.parametrize("events", [(QUEUED,), (QUEUED, sent(1)), (QUEUED, sent(1), DELIVERED)])
def test_staff_retry_only_a_failed_notification(events):
    with pytest.raises(IllegalTransition):
        d.retry(given(*events), cmd.RetryNotification(notification_id=NID), NOW, by="admin")


def test_a_delivered_notification_cannot_be_sent_again():
    state = given(QUEUED, sent(1), ev.NotificationDelivered(delivered_at=NOW))
    with pytest.raises(IllegalTransition):
        d.record_sent(state, cmd.RecordNotificationSent(notification_id=NID), NOW)


def test_every_default_template_renders_against_the_sample():
    for name in NAMES:
        subject, body = DEFAULTS[name]
        check_template(subject, body)
        assert "{{" not in render(body, sample_context())


@pytest.mark.parametrize(
    "body",
    [
        "{{ order.unknown }}",
        "{{ nothing_like_this }}",
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ order.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ range.__self__ }}",
        "{% if %}",
    ],
)
def test_a_template_naming_unknown_fields_or_escaping_the_sandbox_is_refused(body):
    with pytest.raises(InvalidCommand) as refused:
        check_template("Subject", body)
    assert refused.value.code == "invalid_template"


def test_an_oversized_template_is_refused():
    with pytest.raises(InvalidCommand) as refused:
        check_template("Subject", "x" * 20_001)
    assert refused.value.code == "template_too_long"


def test_the_html_part_escapes_what_it_is_given():
    context = {**sample_context(), "customer": {"name": "<script>x</script>"}}
    assert "&lt;script&gt;" in render("{{ customer.name }}", context, html=True)
