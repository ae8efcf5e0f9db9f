"""First-response deadlines, pure, with given times: the due time by priority, and a breach
exactly when no response came by then (not at the due instant itself)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ticket.sla import first_response_due, sla_breached

OPENED = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("priority", "hours"), [("urgent", 1), ("high", 4), ("normal", 24), ("low", 72)]
)
def test_the_first_response_is_due_after_the_hours_of_its_priority(priority, hours):
    assert first_response_due(OPENED, priority) == OPENED + timedelta(hours=hours)


def test_without_a_response_it_is_breached_only_once_the_due_time_has_passed():
    due = first_response_due(OPENED, "urgent")
    assert not sla_breached(due, None, due - timedelta(seconds=1))
    assert not sla_breached(due, None, due)
    assert sla_breached(due, None, due + timedelta(microseconds=1))


def test_a_response_in_time_keeps_it_unbreached_forever():
    due = first_response_due(OPENED, "high")
    assert not sla_breached(due, due, due + timedelta(days=365))
    assert not sla_breached(due, OPENED, due + timedelta(days=1))


def test_a_late_response_leaves_it_breached_whatever_the_reading_time():
    due = first_response_due(OPENED, "normal")
    late = due + timedelta(minutes=1)
    assert sla_breached(due, late, late)
    assert sla_breached(due, late, due - timedelta(hours=1))
