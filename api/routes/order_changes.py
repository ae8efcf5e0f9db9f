"""Splits and cancellation requests over HTTP."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, read_model
from api.routes.fulfillment import LineQuantityIn
from api.schemas import ERRORS, LocationCode, Page, Request
from commands import cancellations, orders, splits
from domain.errors import NotFound
from domain.order.values import LineQuantity
from projections import order_detail
from projections.cancellation_requests import list_requests

router = APIRouter(tags=["orders"], responses=ERRORS)

Text = Annotated[str, Field(max_length=2000)]


class SplitPart(Request):
    location: LocationCode
    lines: Annotated[list[LineQuantityIn], Field(max_length=100)]


class SplitOrder(Request):
    reason: Annotated[str, Field(max_length=200)]
    parts: Annotated[list[SplitPart], Field(max_length=50)]


class ChildOut(BaseModel):
    id: str
    number: int
    location: str | None
    status: str
    lines: list[dict]


class SplitAck(BaseModel):
    id: str
    children: list[dict]
    version: int
    position: int


class RequestCancellation(Request):
    reason: Annotated[str, Field(max_length=50)]
    detail: Text | None = None


class Review(Request):
    note: Text | None = None


class CancellationAck(BaseModel):
    id: str
    order_id: str
    status: str
    version: int
    position: int


class CancellationOut(BaseModel):
    id: str
    order_id: str
    status: str
    reason: str
    detail: str | None
    requested_by: str
    requested_at: str
    reviewed_by: str | None
    note: str | None


def _new_id(ctx, scope: str, order_id: UUID) -> UUID:  # noqa: ANN001
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"{scope}:{ctx.idempotency.principal}:{ctx.idempotency.key}")


@router.post("/orders/{order_id}/splits", status_code=201, response_model=SplitAck)
def split_order(order_id: UUID, body: SplitOrder, container: ContainerDep, ctx: ContextDep):
    """Move the lines to child orders, one per part; every line's parts sum to its quantity
    (422 ``split_empty_part``, ``unknown_line``, ``split_quantities_mismatch``, nothing
    written). The parent is frozen at once; the fulfillment process manager then releases its
    reservations and voids its authorization, and each child is placed at its location."""
    orders.require_exists(container.store, order_id)
    result = splits.split(
        container.store,
        ctx,
        order_id,
        reason=body.reason,
        parts=[
            (p.location, [LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in p.lines])
            for p in body.parts
        ],
    )
    return SplitAck(
        id=str(order_id),
        children=result.extra.get("children", []),
        version=result.version,
        position=result.position,
    )


@router.get(
    "/orders/{order_id}/children",
    response_model=Page[ChildOut],
    dependencies=[read_model(order_detail.NAME)],
)
def list_children(order_id: UUID, container: ContainerDep):
    """The orders this order's split created, in part order."""
    children = order_detail.children_of(container.pool, order_id)
    if children is None:
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")
    return Page[ChildOut](items=[ChildOut(**c) for c in children])


@router.post(
    "/orders/{order_id}/cancellation-requests", status_code=201, response_model=CancellationAck
)
def request_cancellation(
    order_id: UUID, body: RequestCancellation, container: ContainerDep, ctx: ContextDep
):
    """Open a request (one at most per order); a fully shipped, delivered or cancelled order is
    refused (409 ``use_a_return`` / ``order_cancelled``)."""
    orders.require_exists(container.store, order_id)
    request_id = _new_id(ctx, "cancellation", order_id)
    result = cancellations.request(
        container.store,
        ctx,
        order_id,
        request_id=request_id,
        reason=body.reason,
        detail=body.detail,
    )
    return CancellationAck(
        id=result.extra["id"],
        order_id=str(order_id),
        status="pending",
        version=result.version,
        position=result.position,
    )


def _review(request_id: UUID, body: Review | None, container, ctx, approve: bool):  # noqa: ANN001
    result = cancellations.review(
        container.store, ctx, request_id, approve=approve, note=body.note if body else None
    )
    return CancellationAck(
        id=str(request_id),
        order_id=result.extra["order_id"],
        status=result.extra["status"],
        version=result.version,
        position=result.position,
    )


@router.post(
    "/cancellation-requests/{request_id}/approve", status_code=202, response_model=CancellationAck
)
def approve(request_id: UUID, container: ContainerDep, ctx: ContextDep, body: Review | None = None):
    """Approve (``202``, ``status: "approved"``): the fulfillment process manager then carries
    it out (release what is reserved and unshipped, refund or void what was paid for it, cancel
    the unshipped part) and the request becomes ``completed``; follow the order or the
    cancellation requests with ``?min_position=``. A second review conflicts. When the gateway
    keeps failing the void or refund (after bounded retries) the request ends ``failed``
    (``CancellationFailed``, an alert) and the order is left as it was; approving a ``failed``
    request retries it (``202``, ``approved`` again)."""
    return _review(request_id, body, container, ctx, True)


@router.post("/cancellation-requests/{request_id}/reject", response_model=CancellationAck)
def reject(request_id: UUID, container: ContainerDep, ctx: ContextDep, body: Review | None = None):
    """Reject: nothing else changes."""
    return _review(request_id, body, container, ctx, False)


@router.get(
    "/cancellation-requests",
    response_model=Page[CancellationOut],
    dependencies=[read_model("cancellation_requests")],
)
def list_cancellation_requests(
    container: ContainerDep,
    status: Literal["pending", "approved", "rejected", "completed", "failed"] | None = None,
    order_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    rows = list_requests(container.pool, status=status, order_id=order_id, limit=limit)
    return Page[CancellationOut](items=[CancellationOut(**r) for r in rows])
