"""The Customer stream's privacy state and its evolution; the decision is in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace

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


CUSTOMER_PRIVACY = AggregateType("customer", CustomerPrivacyState, evolve, CUSTOMER_EVENTS)
