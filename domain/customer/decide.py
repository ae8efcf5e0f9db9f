"""The decision to forget a customer."""

from __future__ import annotations

from datetime import datetime

from domain.customer.commands import ForgetCustomer
from domain.customer.events import CustomerForgotten
from domain.customer.state import CustomerPrivacyState
from domain.events import DomainEvent


def forget(
    state: CustomerPrivacyState, c: ForgetCustomer, now: datetime, *, by: str
) -> list[DomainEvent]:
    """Forgetting twice is a no-op: the key is gone and the views were scrubbed the first time."""
    if state.forgotten:
        return []
    return [CustomerForgotten(forgotten_at=now, forgotten_by=by, reason=c.reason)]
