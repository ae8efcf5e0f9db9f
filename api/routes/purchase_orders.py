"""Purchase orders over HTTP: create, approve, dispatch, cancel, receive (each one command),
and read them from the purchase orders view with each line's ordered and received units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.routes.supply_common import MANAGE, READ, IdempotencyKey, after_of, cursor_of
from api.schemas import ERRORS, Ack, MoneyOut, Page, body_of
from commands.context import Outcome
from domain.command import LocationCode
from domain.supply.commands import (
    ApprovePurchaseOrder,
    CancelPurchaseOrder,
    CreatePurchaseOrder,
    DispatchPurchaseOrder,
    ReceivePurchaseOrder,
)
from projections import purchase_orders as view

router = APIRouter(tags=["purchase orders"], responses=ERRORS)
RULES = (
    ("POST", "/purchase-orders", MANAGE),
    ("POST", "/purchase-orders/{}/*", MANAGE),
    ("GET", "/purchase-orders", READ),
    ("GET", "/purchase-orders/{}", READ),
)
Status = Literal["pending", "ordered", "in_transit", "received", "cancelled"]
CancelBody = body_of(CancelPurchaseOrder, path=("purchase_order_id",))
ReceiptBody = body_of(ReceivePurchaseOrder, path=("purchase_order_id",))


class PurchaseOrderAck(Ack):
    id: UUID
    status: Status


class ReceiptAck(PurchaseOrderAck):
    receipt_id: UUID


class LineOut(BaseModel):
    sku: str
    ordered: int
    received: int
    unit_cost: MoneyOut


class PurchaseOrderOut(BaseModel):
    id: UUID
    supplier_id: UUID
    location: str
    status: Status
    suggestion_id: UUID | None
    created_at: datetime
    approved_at: datetime | None
    dispatched_at: datetime | None
    first_received_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    version: int
    lines: list[LineOut]


def _ack(order_id: UUID | str, done: Outcome) -> PurchaseOrderAck:
    return PurchaseOrderAck(
        id=order_id, status=done.extra["status"], version=done.version, position=done.position
    )


@router.post("/purchase-orders", status_code=201, response_model=PurchaseOrderAck)
def create_purchase_order(
    body: CreatePurchaseOrder,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    done = dispatch(body, ctx)
    return _ack(done.extra["id"], done)


@router.post("/purchase-orders/{purchase_order_id}/approve", response_model=PurchaseOrderAck)
def approve_purchase_order(purchase_order_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(ApprovePurchaseOrder(purchase_order_id=purchase_order_id), ctx)
    return _ack(purchase_order_id, done)


@router.post("/purchase-orders/{purchase_order_id}/dispatch", response_model=PurchaseOrderAck)
def dispatch_purchase_order(purchase_order_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(DispatchPurchaseOrder(purchase_order_id=purchase_order_id), ctx)
    return _ack(purchase_order_id, done)


@router.post("/purchase-orders/{purchase_order_id}/cancel", response_model=PurchaseOrderAck)
def cancel_purchase_order(
    purchase_order_id: UUID,
    dispatch: DispatchDep,
    ctx: ContextDep,
    body: Annotated[CancelBody | None, Body()] = None,
):
    fields = body.fields() if body is not None else {}
    done = dispatch(CancelPurchaseOrder(purchase_order_id=purchase_order_id, **fields), ctx)
    return _ack(purchase_order_id, done)


@router.post(
    "/purchase-orders/{purchase_order_id}/receipts", status_code=201, response_model=ReceiptAck
)
def receive_purchase_order(
    purchase_order_id: UUID,
    body: ReceiptBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    done = dispatch(ReceivePurchaseOrder(purchase_order_id=purchase_order_id, **body.fields()), ctx)
    return ReceiptAck(
        id=purchase_order_id,
        status=done.extra["status"],
        receipt_id=done.extra["receipt_id"],
        version=done.version,
        position=done.position,
    )


@router.get(
    "/purchase-orders", response_model=Page[PurchaseOrderOut], dependencies=[read_model(view.NAME)]
)
def list_purchase_orders(
    container: ContainerDep,
    status: Status | None = None,
    supplier_id: UUID | None = None,
    location: Annotated[LocationCode | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    rows, last = view.list_purchase_orders(
        container.pool,
        status=status,
        supplier_id=supplier_id,
        location=location,
        limit=limit,
        after=after_of(cursor),
    )
    return Page(items=[PurchaseOrderOut(**r) for r in rows], next_cursor=cursor_of(last))


@router.get(
    "/purchase-orders/{purchase_order_id}",
    response_model=PurchaseOrderOut,
    dependencies=[read_model(view.NAME)],
)
def get_purchase_order(purchase_order_id: UUID, container: ContainerDep):
    found = view.get_purchase_order(container.pool, purchase_order_id)
    if found is None:
        raise ApiError(
            404, "purchase_order_not_found", f"Purchase order {purchase_order_id} does not exist."
        )
    return PurchaseOrderOut(**found)
