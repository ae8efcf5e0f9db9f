"""Returns, refunds and the payments ledger over HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.routes.orders import require_order
from api.schemas import ERRORS, body_of
from commands.context import Outcome
from domain.errors import NotFound
from domain.payment.commands import RequestRefund
from domain.returns.commands import CancelReturn, ReceiveReturn, RejectReturn, RequestReturn
from projections import order_detail
from projections import returns as returns_view
from projections.payments_ledger import ledger

router = APIRouter(tags=["returns and payments"], responses=ERRORS)

RequestReturnBody = body_of(RequestReturn, path=("order_id",))
ReceiveReturnBody = body_of(ReceiveReturn, path=("return_id",))
RejectReturnBody = body_of(RejectReturn, path=("return_id",))
CancelReturnBody = body_of(CancelReturn, path=("return_id",))
RequestRefundBody = body_of(RequestRefund, path=("order_id",))


class ReturnAck(BaseModel):
    id: str
    status: str
    version: int
    position: int
    #: On receipt: the refund that follows, ``pending`` while the returns manager is on it
    #: (follow ``GET /returns/{id}``), then ``succeeded``, ``failed`` (the return stays
    #: ``received``; receiving it again retries) or ``none`` (nothing to refund).
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
    #: ``pending`` while the returns manager refunds, then ``succeeded``, ``failed`` (receive
    #: it again to retry) or ``none``; null before receipt.
    refund: str | None = None
    version: int


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


def _return_ack(result: Outcome, response: Response | None = None) -> ReturnAck:
    x = result.extra
    if response is not None and x.get("refund") == "pending":
        response.status_code = 202  # the refund follows: watch GET /returns/{id}
    return ReturnAck(
        id=x["id"],
        status=x["status"],
        version=result.version,
        position=result.position,
        refund=x.get("refund"),
    )


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnAck)
def request_return(order_id: UUID, body: RequestReturnBody, dispatch: DispatchDep, ctx: ContextDep):
    """Only delivered units, per line at most what was delivered and not already returned
    (422 ``return_exceeds_delivered``), within 30 days of their delivery (422
    ``return_window_closed``)."""
    result = dispatch(RequestReturn(order_id=order_id, **body.fields()), ctx)
    return ReturnAck(
        id=result.extra["id"], status="requested", version=result.version, position=result.position
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


@router.post(
    "/returns/{return_id}/receive",
    response_model=ReturnAck,
    responses={202: {"model": ReturnAck, "description": "Received; the refund follows."}},
)
def receive_return(
    return_id: UUID,
    body: ReceiveReturnBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    response: Response,
):
    """Receive the parcel: recorded at once, with where its units go (``location`` or, without
    one, each back to the location it shipped from). The returns manager then restocks and
    refunds the returned lines: the answer is ``202`` with ``refund: "pending"``, and
    ``GET /returns/{id}?min_position=`` shows the return ``refunded`` (or ``received`` with
    ``refund: "failed"``: receiving it again retries the refund)."""
    return _return_ack(dispatch(ReceiveReturn(return_id=return_id, **body.fields()), ctx), response)


@router.post("/returns/{return_id}/reject", response_model=ReturnAck)
def reject_return(return_id: UUID, body: RejectReturnBody, dispatch: DispatchDep, ctx: ContextDep):
    return _return_ack(dispatch(RejectReturn(return_id=return_id, **body.fields()), ctx))


@router.post("/returns/{return_id}/cancel", response_model=ReturnAck)
def cancel_return(
    return_id: UUID, dispatch: DispatchDep, ctx: ContextDep, body: CancelReturnBody | None = None
):
    """CancelReturn: only while ``requested`` (409 ``illegal_transition`` once received,
    rejected or refunded); its units may be asked back again. A repeat changes nothing."""
    fields = body.fields() if body else {}
    return _return_ack(dispatch(CancelReturn(return_id=return_id, **fields), ctx))


@router.post("/orders/{order_id}/refunds", status_code=202, response_model=RefundAck)
def refund(order_id: UUID, body: RequestRefundBody, dispatch: DispatchDep, ctx: ContextDep):
    """A manual refund, never above captured − refunded − in flight (409
    ``refund_exceeds_captured``, nothing written): recorded as pending (``202``); the returns
    manager asks the gateway, and ``GET /orders/{id}/payments`` shows it ``pending``, then
    ``succeeded`` or ``failed``."""
    result = dispatch(RequestRefund(order_id=order_id, **body.fields()), ctx)
    x = result.extra
    return RefundAck(
        id=x["id"],
        status=x["status"],
        amount=x["amount"],
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
