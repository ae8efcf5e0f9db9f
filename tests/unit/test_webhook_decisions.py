"""The Webhook's decisions: given its events, when a command, then events or a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.webhook import decide
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from domain.webhook.events import WebhookDeleted, WebhookRegistered, WebhookSecretRotated
from domain.webhook.state import WEBHOOK

KNOWN = frozenset({"order.OrderPlaced", "order.OrderConfirmed"})
NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
URL = "https://hooks.example.com/ecom"


def given(*events):
    return WEBHOOK.fold(events)


def registered(types=("order.OrderPlaced",)):
    return WebhookRegistered(url=URL, event_types=types)


class TestNew:
    def test_registering_records_the_url_and_types_once_each(self):
        c = RegisterWebhook(
            url=URL, event_types=["order.OrderPlaced", "order.OrderConfirmed", "order.OrderPlaced"]
        )
        [event] = decide.register(given(), c, KNOWN)
        assert event == WebhookRegistered(
            url=URL, event_types=("order.OrderPlaced", "order.OrderConfirmed")
        )

    def test_an_unknown_event_type_is_refused_by_name(self):
        c = RegisterWebhook(url=URL, event_types=["order.OrderPlaced", "order.NoSuchThing"])
        with pytest.raises(InvalidCommand) as refused:
            decide.register(given(), c, KNOWN)
        assert refused.value.code == "unknown_event_type"
        assert refused.value.details == {"event_types": ["order.NoSuchThing"]}

    def test_rotating_or_deleting_an_unknown_webhook_is_not_found(self):
        with pytest.raises(NotFound):
            decide.rotate_secret(given(), RotateWebhookSecret(webhook_id=uuid4()), NOW)
        with pytest.raises(NotFound):
            decide.delete(given(), DeleteWebhook(webhook_id=uuid4()))


class TestActive:
    def test_registering_again_is_a_conflict(self):
        with pytest.raises(Conflict):
            decide.register(
                given(registered()),
                RegisterWebhook(url=URL, event_types=["order.OrderPlaced"]),
                KNOWN,
            )

    def test_each_rotation_is_the_next_generation_with_the_old_secret_s_grace(self):
        state = given(registered(), WebhookSecretRotated(generation=1, previous_valid_until=NOW))
        [event] = decide.rotate_secret(
            state, RotateWebhookSecret(webhook_id=uuid4(), grace_s=60), NOW
        )
        assert event == WebhookSecretRotated(
            generation=2, previous_valid_until=NOW + timedelta(seconds=60)
        )

    def test_the_default_grace_is_a_day(self):
        [event] = decide.rotate_secret(
            given(registered()), RotateWebhookSecret(webhook_id=uuid4()), NOW
        )
        assert event.previous_valid_until == NOW + timedelta(days=1)

    def test_deleting_records_it(self):
        assert decide.delete(given(registered()), DeleteWebhook(webhook_id=uuid4())) == [
            WebhookDeleted()
        ]


class TestDeleted:
    def test_a_deleted_webhook_is_gone_for_every_command(self):
        state = given(registered(), WebhookDeleted())
        with pytest.raises(NotFound):
            decide.delete(state, DeleteWebhook(webhook_id=uuid4()))
        with pytest.raises(NotFound):
            decide.rotate_secret(state, RotateWebhookSecret(webhook_id=uuid4()), NOW)
