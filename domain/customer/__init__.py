"""The Customer area: for now, the right to be forgotten."""

from domain.customer.events import CUSTOMER_EVENTS

__all__ = ["CUSTOMER_EVENTS"]
