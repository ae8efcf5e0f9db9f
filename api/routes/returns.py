"""Returns, refunds and the payments ledger over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictBool

from api.deps import ContainerDep, ContextDep, read_model
from api.errors import ApiError
from api.routes.fulfillment import LineQuantityIn
from api.routes.orders import require_order
from api.schemas import ERRORS, LocationCode, MoneyIn, Request
from commands import orders, payments, returns
from domain.errors import NotFound
from domain.order.values import LineQuantity
from projections import order_detail
from projections import returns as returns_view
from projections.payments_ledger import ledger

router = APIRouter(tags=["returns and payments"], responses=ERRORS)

RefundReason = Literal["customer_request", "order_cancelled", "item_returned", "damaged", "fraud"]


class RequestReturn(Request):
    lines: Annotated[list[LineQuantityIn], Field(max_length=100)]
    reason: Annotated[str, Field(max_length=500)]


class ReceiveReturn(Request):
    restock: StrictBool = False
    location: LocationCode | None = None


class RejectReturn(Request):
    note: Annotated[str, Field(max_length=2000)] | None = None


class ReturnAck(BaseModel):
    id: str
    status: str
    version: int
    position: int
    #: On receipt: how the refund that follows went, ``succeeded``, ``failed`` (the return
    #: stays ``received``; receiving it again retries) or ``none`` (nothing to refund).
    refund: str | None = None


class ReturnOut(BaseModel):
    id: str
    order_id: str
    status: str
    lines: list[dict[str, Any]]
    restock: bool
    location: str | None
    #: Restocked without a location: where each line's units went back (where they shipped
    #: from), ``[{line_id, location, quantity}]``.
    restock_to: list[dict[str, Any]] = []
    refunded: str
    version: int


class RefundIn(Request):
    amount: MoneyIn
    reason: RefundReason = "customer_request"
    lines: list[LineQuantityIn] | None = None


class RefundAck(BaseModel):
    id: str
    status: str
    amount: dict[str, str]
    version: int
    position: int


class LedgerOut(BaseModel):
    order_id: str
    currency: str | None
    authorized: str
    captured: str
    voided: str
    refunded: str
    payment_status: str
    authorizations: list[dict[str, Any]]
    captures: list[dict[str, Any]]
    voids: list[dict[str, Any]]
    refunds: list[dict[str, Any]]


def _new_id(ctx, scope: str, order_id: UUID) -> UUID:  # noqa: ANN001
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"{scope}:{ctx.idempotency.principal}:{ctx.idempotency.key}")


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnAck)
def request_return(order_id: UUID, body: RequestReturn, container: ContainerDep, ctx: ContextDep):
    """Only delivered units, per line at most what was delivered and not already returned
    (422 ``return_exceeds_delivered``), within 30 days of their delivery (422
    ``return_window_closed``)."""
    orders.require_exists(container.store, order_id)
    return_id = _new_id(ctx, "return", order_id)
    result = returns.request(
        container.store,
        ctx,
        order_id,
        return_id=return_id,
        lines=[LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in body.lines],
        reason=body.reason,
    )
    return ReturnAck(
        id=str(return_id), status="requested", version=result.version, position=result.position
    )


@router.get(
    "/returns/{return_id}", response_model=ReturnOut, dependencies=[read_model(returns_view.NAME)]
)
def get_return(return_id: UUID, container: ContainerDep, response: Response):
    found = returns_view.get_return(container.pool, return_id)
    if found is None:
        raise NotFound(f"Return {return_id} does not exist.", code="return_not_found")
    response.headers["ETag"] = f'"{found["version"]}"'
    return ReturnOut(**found)


@router.post("/returns/{return_id}/receive", response_model=ReturnAck)
def receive_return(return_id: UUID, body: ReceiveReturn, container: ContainerDep, ctx: ContextDep):
    """Receive the parcel; restock if asked, into ``location`` or, without one, each unit
    back to the location it shipped from; the refund for the returned lines follows (the
    return ends ``refunded``)."""
    returns.get(container.store, return_id)
    result = returns.receive(
        container.store,
        container.gateway,
        ctx,
        return_id,
        restock=body.restock,
        location=body.location,
    )
    state, version = returns.get(container.store, return_id)
    return ReturnAck(
        id=str(return_id),
        status=state.status,
        version=version,
        position=result.position,
        refund=result.extra.get("refund"),
    )


@router.post("/returns/{return_id}/reject", response_model=ReturnAck)
def reject_return(return_id: UUID, body: RejectReturn, container: ContainerDep, ctx: ContextDep):
    result = returns.reject(container.store, ctx, return_id, note=body.note)
    return ReturnAck(
        id=str(return_id), status="rejected", version=result.version, position=result.position
    )


@router.post("/returns/{return_id}/cancel", response_model=ReturnAck)
def cancel_return(
    return_id: UUID, container: ContainerDep, ctx: ContextDep, body: RejectReturn | None = None
):
    """CancelReturn: only while ``requested`` (409 ``illegal_transition`` once received,
    rejected or refunded); its units may be asked back again. A repeat changes nothing."""
    result = returns.cancel(container.store, ctx, return_id, note=body.note if body else None)
    return ReturnAck(
        id=str(return_id), status="cancelled", version=result.version, position=result.position
    )


@router.post("/orders/{order_id}/refunds", status_code=201, response_model=RefundAck)
def refund(order_id: UUID, body: RefundIn, container: ContainerDep, ctx: ContextDep):
    """A manual refund, never above captured − refunded − in flight (409
    ``refund_exceeds_captured``, nothing written)."""
    order = orders.get(container.store, order_id)
    if body.amount.currency != order.currency:
        raise ApiError(422, "currency_mismatch", f"The order is in {order.currency}.")
    amount = Decimal(body.amount.amount)
    if amount <= 0:
        raise ApiError(422, "invalid_amount", "The amount must be greater than zero.")
    if body.lines:
        for x in body.lines:
            if order.line(x.line_id) is None:
                raise ApiError(422, "unknown_line", f"Line '{x.line_id}' is not on this order.")
    refund_id = _new_id(ctx, "refund", order_id)
    result = payments.refund(
        container.store,
        container.gateway,
        ctx,
        order_id=order_id,
        refund_id=refund_id,
        amount=amount,
        reason=body.reason,
    )
    state = payments.get(container.store, order_id)
    if refund_id in state.failed_refunds:
        status = "failed"  # declined, or the gateway kept failing through the retries
    else:
        status = "succeeded" if refund_id in state.refund_ids else "pending"
    return RefundAck(
        id=str(refund_id),
        status=status,
        amount={"amount": str(amount), "currency": order.currency},
        version=result.version,
        position=result.position,
    )


@router.get(
    "/orders/{order_id}/payments",
    response_model=LedgerOut,
    dependencies=[read_model("payments_ledger"), read_model(order_detail.NAME)],
)
def get_payments(order_id: UUID, container: ContainerDep):
    """The order's payments ledger: authorizations, captures, voids and refunds."""
    require_order(container, order_id)
    return LedgerOut(**ledger(container.pool, order_id))
