"""The Customer stream's privacy state and the decision to forget a customer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.aggregate import AggregateType
from domain.customer.events import CUSTOMER_EVENTS, CustomerForgotten
from domain.events import DomainEvent


@dataclass(frozen=True)
class CustomerPrivacyState:
    forgotten: bool = False


def evolve(state: CustomerPrivacyState, event: DomainEvent) -> CustomerPrivacyState:
    if isinstance(event, CustomerForgotten):
        return replace(state, forgotten=True)
    return state


def forget(state: CustomerPrivacyState, *, at: datetime, by: str, reason: str) -> list[DomainEvent]:
    """Forgetting twice is a no-op: the key is gone and the views were scrubbed the first time."""
    if state.forgotten:
        return []
    return [CustomerForgotten(forgotten_at=at, forgotten_by=by, reason=reason)]


CUSTOMER_PRIVACY = AggregateType("customer", CustomerPrivacyState, evolve, CUSTOMER_EVENTS)
