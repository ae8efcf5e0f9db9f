"""What an order's lines need from stock, bundles expanded: the one place where a bundle's line
becomes the needs of its components, for the placement saga to allocate and reserve together
with every other line (all of them or none)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.allocation import LineNeed


def stock_needs(lines: Iterable[Mapping[str, Any]]) -> list[LineNeed]:
    """``OrderPlaced``'s lines (decoded) as stock needs: a plain line needs its own SKU; a
    bundle's line (``components`` set) needs each component's quantity per bundle × the
    line's quantity, under the line's id."""
    needs = []
    for line in lines:
        components = line.get("components")
        if not components:
            needs.append(LineNeed(line["line_id"], line["sku"], line["quantity"]))
            continue
        for c in components:
            needs.append(LineNeed(line["line_id"], c["sku"], c["quantity"] * line["quantity"]))
    return needs


def bundle_line_ids(lines: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The ids of the bundles' lines among ``OrderPlaced``'s lines (decoded)."""
    return frozenset(line["line_id"] for line in lines if line.get("components"))
