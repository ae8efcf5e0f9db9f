"""What a bundle's order line does not support (yet), refused with one code,
``422 bundle_line_unsupported``, rather than done wrong: a line edit naming a bundle's line or
adding a bundle, splitting an order that holds one, and picked or packed counts of a
bundle's line on its plan (``domain/fulfillment/decide.py``, which sees it as one line id
planned under several SKUs). Placement, reservation, shipping, delivery, returns and
cancellation handle bundle lines component by component."""

from __future__ import annotations

from collections.abc import Iterable

from domain.errors import InvalidCommand
from domain.order.state import OrderState

UNSUPPORTED = "bundle_line_unsupported"


def refuse_bundle_lines(state: OrderState, line_ids: Iterable[str] | None, what: str) -> None:
    """422 when any of ``line_ids`` (every line when None) is a bundle's line."""
    wanted = None if line_ids is None else set(line_ids)
    for line in state.lines:
        if line.components and (wanted is None or line.line_id in wanted):
            raise InvalidCommand(
                f"{what} is not supported for a bundle's line.",
                code=UNSUPPORTED,
                details={"line_id": line.line_id, "sku": line.sku},
            )


def refuse_bundle_sku(sku: str, what: str) -> None:
    raise InvalidCommand(
        f"{what} is not supported for a bundle.", code=UNSUPPORTED, details={"sku": sku}
    )
