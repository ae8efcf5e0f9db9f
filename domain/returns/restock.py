"""Where returned units go back when the receipt names no location: to the location each unit
shipped from (API: ``POST /returns/{id}/receive`` without ``location``).

Pure: the handler passes the order's delivered shipments (location and units per line, in
shipment order), the units of each line that earlier returns already brought back, and the
return's lines. Units are matched to shipments oldest first, earlier returns before this one,
so a line delivered from two locations sends each unit back to its own. The result is decided
once, at receipt, and kept in ``ReturnReceived.restock_to``: a retried receipt restocks the
same units in the same places."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.errors import InvalidCommand
from domain.order.values import LineQuantity, Value


@dataclass(frozen=True, slots=True)
class Shipped:
    """``quantity`` units of ``line_id`` delivered from ``location`` (one shipment's line)."""

    line_id: str
    location: str
    quantity: int


class RestockPart(Value):
    """``quantity`` units of ``line_id`` go back into stock at ``location``."""

    line_id: str
    location: str
    quantity: int


def restock_to(
    shipped: Sequence[Shipped],
    returned_before: Mapping[str, int],
    lines: Sequence[LineQuantity],
) -> list[RestockPart]:
    """Each returned unit back to the location it shipped from (one part per line and
    location, in line then shipment order); 422 ``location_required`` when the delivered
    shipments do not account for the units (name a location then)."""
    parts: list[RestockPart] = []
    for line in lines:
        skip = returned_before.get(line.line_id, 0)
        wanted = line.quantity
        mine: dict[str, int] = {}
        for s in (s for s in shipped if s.line_id == line.line_id):
            taken_before = min(skip, s.quantity)
            skip -= taken_before
            take = min(wanted, s.quantity - taken_before)
            if take > 0:
                mine[s.location] = mine.get(s.location, 0) + take
                wanted -= take
        if wanted > 0:
            raise InvalidCommand(
                "The delivered shipments do not say where these units came from; "
                "name a location to restock into.",
                code="location_required",
                details={"line_id": line.line_id},
            )
        parts += [
            RestockPart(line_id=line.line_id, location=c, quantity=q) for c, q in mine.items()
        ]
    return parts
