"""Order line edits over HTTP (only before picking or any shipment): add, change, remove.

Each route dispatches one command that records the edit as requested and answers ``202`` with
the edit's id; the line edit manager then re-reserves the stock and re-authorizes the payment,
and applies the edit or rejects it with its reason. A client follows it on the order
(``GET /orders/{id}``, ``last_edit``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.deps import ContextDep, DispatchDep
from api.schemas import ERRORS, body_of
from commands.context import Outcome
from domain.order.line_edit_commands import AddLine, ChangeLine, RemoveLine

router = APIRouter(tags=["orders"], responses=ERRORS)

AddLineBody = body_of(AddLine, path=("order_id",))
ChangeLineBody = body_of(ChangeLine, path=("order_id", "line_id"))
LineIdPath = Annotated[str, Path(min_length=1, max_length=100)]


class LineEditAck(BaseModel):
    """The edit as recorded: ``pending`` until the line edit manager applies or rejects it
    (``applied`` at once for a quantity changed to what it is)."""

    id: str
    edit_id: str
    line_id: str
    status: str
    version: int
    position: int


def _ack(order_id: UUID, result: Outcome) -> LineEditAck:
    return LineEditAck(
        id=str(order_id),
        edit_id=result.extra["edit_id"],
        line_id=result.extra["line_id"],
        status=result.extra["status"],
        version=result.version,
        position=result.position,
    )


@router.post("/orders/{order_id}/lines", status_code=202, response_model=LineEditAck)
def add_line(order_id: UUID, body: AddLineBody, dispatch: DispatchDep, ctx: ContextDep):
    """Ask to add a line, priced from the catalog now (``422 unknown_sku`` or an unsellable
    SKU, ``409 order_already_fulfilling``, ``409 edit_in_progress`` while another edit of the
    order is pending). Stock and payment are settled afterwards: ``last_edit`` on the order."""
    return _ack(order_id, dispatch(AddLine(order_id=order_id, **body.fields()), ctx))


@router.patch("/orders/{order_id}/lines/{line_id}", status_code=202, response_model=LineEditAck)
def change_line(
    order_id: UUID, line_id: LineIdPath, body: ChangeLineBody, dispatch: DispatchDep,
    ctx: ContextDep,
):  # fmt: skip
    """Ask to change a line's quantity (``404 line_not_found``, ``422 invalid_quantity``)."""
    command = ChangeLine(order_id=order_id, line_id=line_id, **body.fields())
    return _ack(order_id, dispatch(command, ctx))


@router.delete("/orders/{order_id}/lines/{line_id}", status_code=202, response_model=LineEditAck)
def remove_line(
    order_id: UUID,
    line_id: LineIdPath,
    dispatch: DispatchDep,
    ctx: ContextDep,
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "removed by request",
):
    """Ask to remove a line (``409 last_line``: cancel the order instead)."""
    command = RemoveLine(order_id=order_id, line_id=line_id, reason=reason)
    return _ack(order_id, dispatch(command, ctx))
