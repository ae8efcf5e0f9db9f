"""The line edits of a confirmed order, as messages: add a line, change a line's quantity,
remove a line. Each only records the request on the order (``LineEditRequested``); the line
edit manager (``commands/line_edit_manager.py``) re-reserves, re-authorizes and applies or
rejects it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, Sku, whole

#: Any whole number: the range (1 to ``MAX_QUANTITY``) is the decision's, with its own code.
Quantity = whole()
Reason = Annotated[str, Field(min_length=1, max_length=500)]
LineId = Annotated[str, Field(min_length=1, max_length=100)]


class AddLine(Command):
    """Add a line, priced from the catalog when asked."""

    order_id: UUID
    sku: Sku
    quantity: Quantity  # type: ignore[valid-type]
    reason: Reason


class ChangeLine(Command):
    """Change a line's quantity."""

    order_id: UUID
    line_id: LineId
    quantity: Quantity  # type: ignore[valid-type]
    reason: Reason


class RemoveLine(Command):
    """Remove a line (never the last: cancel the order instead)."""

    order_id: UUID
    line_id: LineId
    reason: Reason = "removed by request"


LineEdit = AddLine | ChangeLine | RemoveLine
