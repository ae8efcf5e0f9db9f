"""What other decisions need to know about a customer, read from the write side: whether the
id was ever registered (a ``customer_id`` never registered is a guest), whether the customer
may order, and their segment (pricing rules and promotions match on it).

``customer_facts`` is the one door: placement, pricing and promotions call it and never read
the customers view. It folds the Customer stream's standing (``domain.customer.state``
``CUSTOMER_STANDING``: no personal data) through the one load path
(``commands/stream_states.py``), kept in the write side's ``customers`` cache so that only the
events after the cached version are read (one indexed query, none folded when nothing moved).
``customer_facts_of`` answers for many customers in one query (the placement saga's batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from commands.stream_states import load_states
from commands.write_side import WriteSide
from domain.customer.state import CUSTOMER_STANDING, CustomerStanding


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    registered: bool = False
    #: ``active``, ``blocked`` or ``forgotten`` (a guest is ``active``).
    status: str = "active"
    segment: str | None = None

    @property
    def may_order(self) -> bool:
        """Only a block stops orders: a forgotten customer (or guest) may order again, the new
        order's personal data being stored erased (its key is gone)."""
        return self.status != "blocked"


GUEST = CustomerFacts()


def _facts(standing: CustomerStanding) -> CustomerFacts:
    if not standing.registered and standing.status == "active":
        return GUEST
    return CustomerFacts(standing.registered, standing.status, standing.segment)


def customer_facts_of(
    w: WriteSide, customer_ids: Iterable[UUID], since: float | None = None
) -> dict[UUID, CustomerFacts]:
    """The facts of each customer, their streams' tails read in one query (none for a
    customer read since ``since``: ``commands/stream_states.py``)."""
    loaded = load_states(w.store, CUSTOMER_STANDING, customer_ids, w.customers, since)
    return {customer_id: _facts(one.state) for customer_id, one in loaded.items()}


def customer_facts(w: WriteSide, customer_id: UUID, since: float | None = None) -> CustomerFacts:
    """The facts of ``customer_id`` as its stream holds them now, or as a read begun since
    ``since`` found them (a guest's when it has none)."""
    return customer_facts_of(w, [customer_id], since)[customer_id]
