"""Allocation: which locations serve which quantity of each order line.

Prefer the one active location that can fill the whole order, lowest priority number first;
otherwise fill each line from locations in priority order, splitting a line where needed.
A line that cannot be covered makes the whole allocation fail (``None``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineNeed:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Allocation:
    line_id: str
    sku: str
    location: str
    quantity: int


def allocate(
    lines: Sequence[LineNeed],
    location_priority: Mapping[str, int],
    available: Mapping[str, Mapping[str, int]],
) -> list[Allocation] | None:
    """``location_priority``: active locations -> priority; ``available``: sku -> location ->
    available units. Returns the allocations, or None when some line cannot be covered."""
    ranked = sorted(location_priority, key=lambda code: (location_priority[code], code))
    need_per_sku: dict[str, int] = {}
    for line in lines:
        need_per_sku[line.sku] = need_per_sku.get(line.sku, 0) + line.quantity
    for code in ranked:
        if all(available.get(sku, {}).get(code, 0) >= n for sku, n in need_per_sku.items()):
            return [Allocation(line.line_id, line.sku, code, line.quantity) for line in lines]
    left = {sku: dict(per_location) for sku, per_location in available.items()}
    result: list[Allocation] = []
    for line in lines:
        needed = line.quantity
        for code in ranked:
            if needed == 0:
                break
            take = min(needed, left.get(line.sku, {}).get(code, 0))
            if take > 0:
                result.append(Allocation(line.line_id, line.sku, code, take))
                left[line.sku][code] -= take
                needed -= take
        if needed > 0:
            return None
    return result
