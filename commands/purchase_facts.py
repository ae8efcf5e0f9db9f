"""What a customer has received, read from the write side: whether they have a delivered line
of a product (what makes a review ``verified``).

The customer's orders are those of their order ledger (``domain.promotion.state``
``CUSTOMER_ORDERS``: every order the placement saga took on, a cancelled one taken off), each
order's lines and delivered quantities from its own stream, folded by the Order aggregate's
``evolve``; two queries through the one load path (``commands/stream_states.py``), never a
read model."""

from __future__ import annotations

from uuid import UUID

from commands.stream_states import load_states
from commands.write_side import WriteSide
from domain.order.state import ORDER
from domain.promotion.state import CUSTOMER_ORDERS, customer_orders_stream


def delivered_order(w: WriteSide, customer_id: UUID, product_id: UUID) -> UUID | None:
    """An order of ``customer_id`` with a delivered line of ``product_id`` (the earliest by
    order number), or None."""
    ledger = customer_orders_stream(customer_id)
    order_ids = load_states(w.store, CUSTOMER_ORDERS, [ledger])[ledger].state.orders
    if not order_ids:
        return None
    orders = load_states(w.store, ORDER, order_ids)
    found = [
        (one.state.number, order_id)
        for order_id, one in orders.items()
        if one.state.customer_id == customer_id
        and any(line.product_id == product_id and line.delivered > 0 for line in one.state.lines)
    ]
    return min(found)[1] if found else None
