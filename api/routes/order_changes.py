"""Splits and cancellation requests over HTTP."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.schemas import ERRORS, Page, body_of
from domain.errors import NotFound
from domain.order.fulfillment_commands import RequestCancellation, ReviewCancellation, SplitOrder
from projections import order_detail
from projections.cancellation_requests import list_requests

router = APIRouter(tags=["orders"], responses=ERRORS)

SplitOrderBody = body_of(SplitOrder, path=("order_id",))
RequestCancellationBody = body_of(RequestCancellation, path=("order_id",))
Review = body_of(ReviewCancellation, path=("request_id", "approve"))


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


@router.post("/orders/{order_id}/splits", status_code=201, response_model=SplitAck)
def split_order(order_id: UUID, body: SplitOrderBody, dispatch: DispatchDep, ctx: ContextDep):
    """Move the lines to child orders, one per part; every line's parts sum to its quantity
    (422 ``split_empty_part``, ``unknown_line``, ``split_quantities_mismatch``, nothing
    written). The parent is frozen at once; the fulfillment process manager then releases its
    reservations and voids its authorization, and each child is placed at its location."""
    result = dispatch(SplitOrder(order_id=order_id, **body.fields()), ctx)
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
    order_id: UUID, body: RequestCancellationBody, dispatch: DispatchDep, ctx: ContextDep
):
    """Open a request (one at most per order); a fully shipped, delivered or cancelled order is
    refused (409 ``use_a_return`` / ``order_cancelled``)."""
    result = dispatch(RequestCancellation(order_id=order_id, **body.fields()), ctx)
    return CancellationAck(
        id=result.extra["id"],
        order_id=str(order_id),
        status="pending",
        version=result.version,
        position=result.position,
    )


def _review(request_id: UUID, body, dispatch, ctx, approve: bool):  # noqa: ANN001
    note = body.note if body else None
    result = dispatch(ReviewCancellation(request_id=request_id, approve=approve, note=note), ctx)
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
def approve(request_id: UUID, dispatch: DispatchDep, ctx: ContextDep, body: Review | None = None):
    """Approve (``202``, ``status: "approved"``): the fulfillment process manager then carries
    it out (release what is reserved and unshipped, refund or void what was paid for it, cancel
    the unshipped part) and the request becomes ``completed``; follow the order or the
    cancellation requests with ``?min_position=``. A second review conflicts. When the gateway
    keeps failing the void or refund (after bounded retries) the request ends ``failed``
    (``CancellationFailed``, an alert) and the order is left as it was; approving a ``failed``
    request retries it (``202``, ``approved`` again)."""
    return _review(request_id, body, dispatch, ctx, True)


@router.post("/cancellation-requests/{request_id}/reject", response_model=CancellationAck)
def reject(request_id: UUID, dispatch: DispatchDep, ctx: ContextDep, body: Review | None = None):
    """Reject: nothing else changes."""
    return _review(request_id, body, dispatch, ctx, False)


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
