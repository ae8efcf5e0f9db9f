"""The Chat aggregate: a live conversation between a customer and agents, which can be
escalated, once, to a ticket carrying its transcript. ``events``, ``state`` (with its
evolution), ``commands`` and ``decide`` (pure; time arrives as ``now``, the new ticket's id
from the handler)."""
