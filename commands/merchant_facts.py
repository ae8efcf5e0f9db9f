"""What other decisions need to know about a marketplace merchant, read from the write side:
whether it exists and whether its products may be ordered now.

The one door for placement (``refuse_suspended_merchants``: an order line of a suspended
merchant's product is ``422 merchant_suspended``) and product creation
(``require_merchant_known``: ``422 unknown_merchant``). It folds the Merchant streams through
the one load path (``commands/stream_states.py``) into the write side's ``merchants`` cache, so
only the events after the cached version are read (one indexed query for all the merchants of
an order; none when no line is a merchant's). Orders placed before a suspension go on: this is
asked at placement only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from commands.stream_states import load_states
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.merchant.state import MERCHANT, MerchantState

if TYPE_CHECKING:  # products imports this module (product creation names a merchant)
    from commands.products import PricedSku


def merchant_states(w: WriteSide, merchant_ids: Iterable[UUID]) -> dict[UUID, MerchantState]:
    """Each merchant's current state, the streams' tails read in one query."""
    loaded = load_states(w.store, MERCHANT, merchant_ids, w.merchants)
    return {merchant_id: one.state for merchant_id, one in loaded.items()}


def require_merchant_known(w: WriteSide, merchant_id: UUID) -> MerchantState:
    state = merchant_states(w, [merchant_id])[merchant_id]
    if not state.exists:
        raise InvalidCommand(
            f"Merchant {merchant_id} does not exist.",
            code="unknown_merchant",
            details={"field": "merchant_id"},
        )
    return state


def refuse_suspended_merchants(w: WriteSide, lines: Sequence[PricedSku]) -> None:
    """Refuse the first line whose product's merchant is suspended."""
    merchant_ids = {p.merchant_id for p in lines if p.merchant_id is not None}
    if not merchant_ids:
        return
    states = merchant_states(w, merchant_ids)
    for p in lines:
        if p.merchant_id is not None and states[p.merchant_id].status == "suspended":
            raise InvalidCommand(
                f"SKU '{p.sku}' is sold by a suspended merchant.",
                code="merchant_suspended",
                details={"sku": p.sku, "merchant_id": str(p.merchant_id)},
            )
