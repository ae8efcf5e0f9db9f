"""Carrier choice: when a shipment names no carrier, the one with the best score
= 0.7 × on-time rate + 0.3 × cheapness wins, cheapness being the cost normalised over the
table (the cheapest scores 1, the dearest 0). Ties go to the name first in alphabetical order,
so the choice is deterministic. Pure: the table is data, passed in or the default below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ON_TIME_WEIGHT = Decimal("0.7")
COST_WEIGHT = Decimal("0.3")


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    on_time_rate: Decimal  # share of parcels delivered by the promised date, 0..1
    cost: Decimal  # a typical parcel's price, in the shop's currency


#: The carriers the shop works with, and how they have been doing.
CARRIERS: tuple[Carrier, ...] = (
    Carrier("DHL", Decimal("0.93"), Decimal("11.00")),
    Carrier("FedEx", Decimal("0.96"), Decimal("14.50")),
    Carrier("UPS", Decimal("0.95"), Decimal("12.00")),
    Carrier("USPS", Decimal("0.90"), Decimal("7.50")),
)


def scores(carriers: Sequence[Carrier] = CARRIERS) -> dict[str, Decimal]:
    """Each carrier's score; with a single cost across the table every one is cheapest."""
    if not carriers:
        return {}
    low = min(c.cost for c in carriers)
    high = max(c.cost for c in carriers)
    spread = high - low

    def cheapness(c: Carrier) -> Decimal:
        return Decimal(1) if spread == 0 else (high - c.cost) / spread

    return {c.name: ON_TIME_WEIGHT * c.on_time_rate + COST_WEIGHT * cheapness(c) for c in carriers}


def choose(carriers: Sequence[Carrier] = CARRIERS) -> Carrier:
    """The best-scoring carrier; ties to the alphabetically first name."""
    if not carriers:
        raise ValueError("No carrier to choose from.")
    score = scores(carriers)
    return min(carriers, key=lambda c: (-score[c.name], c.name))
