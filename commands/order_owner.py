"""Whose an order is, as the write side knows it: the ``customer_id`` of the first event of the
order's stream (an order never changes hands). Tickets and chats that name an order check it
here, never in a view."""

from __future__ import annotations

from uuid import UUID

from eventstore.store import EventStore


def order_owner(store: EventStore, order_id: UUID | None) -> UUID | None:
    """The customer ``order_id`` was placed for; None when it names no order (or is None)."""
    if order_id is None:
        return None
    first = store.load(order_id, up_to_version=1)
    if not first or first[0].stream_type != "order":
        return None
    customer = first[0].data.get("customer_id")
    return UUID(str(customer)) if customer is not None else None
