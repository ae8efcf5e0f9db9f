"""Order line edits over HTTP (only before picking or any shipment): add, change, remove.
Each re-reserves stock and adjusts the authorization first, or is refused with the reason."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep
from api.schemas import ERRORS, Request, Sku, WholeInt
from commands import line_edits, orders

router = APIRouter(tags=["orders"], responses=ERRORS)

Reason = Annotated[str, Field(min_length=1, max_length=500)]


class AddLine(Request):
    sku: Sku
    quantity: WholeInt
    reason: Reason


class ChangeLine(Request):
    quantity: WholeInt
    reason: Reason


class LineEditAck(BaseModel):
    id: str
    line_id: str
    version: int
    position: int


def _edit_id(ctx, order_id: UUID) -> UUID:  # noqa: ANN001
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"edit:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def _run(container, ctx, order_id: UUID, **kwargs) -> LineEditAck:  # noqa: ANN001, ANN003
    orders.require_exists(container.store, order_id)
    result = line_edits.edit(
        container.dispatcher.write, ctx, order_id, edit_id=_edit_id(ctx, order_id), **kwargs
    )
    return LineEditAck(
        id=str(order_id),
        line_id=result.extra.get("line_id") or kwargs.get("line_id") or "",
        version=result.version,
        position=result.position,
    )


@router.post("/orders/{order_id}/lines", status_code=201, response_model=LineEditAck)
def add_line(order_id: UUID, body: AddLine, container: ContainerDep, ctx: ContextDep):
    """Add a line priced from the catalog now (409 ``insufficient_stock``,
    ``payment_declined`` or ``order_already_fulfilling`` when it cannot be done)."""
    return _run(
        container, ctx, order_id, kind="add", sku=body.sku, quantity=body.quantity,
        reason=body.reason,
    )  # fmt: skip


@router.patch("/orders/{order_id}/lines/{line_id}", response_model=LineEditAck)
def change_line(
    order_id: UUID, line_id: str, body: ChangeLine, container: ContainerDep, ctx: ContextDep
):
    return _run(
        container, ctx, order_id, kind="change", line_id=line_id, quantity=body.quantity,
        reason=body.reason,
    )  # fmt: skip


@router.delete("/orders/{order_id}/lines/{line_id}", response_model=LineEditAck)
def remove_line(
    order_id: UUID,
    line_id: str,
    container: ContainerDep,
    ctx: ContextDep,
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "removed by request",
):
    return _run(container, ctx, order_id, kind="remove", line_id=line_id, reason=reason)
