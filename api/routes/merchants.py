"""Marketplace merchants over HTTP: registration (``applied``), the review transitions, the
commission rate and its history, the merchants view and each merchant's ledger. ``RULES`` are
the routes' rows of the authorization table: an admin decides, staff and readers read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, IsoDateTime, MoneyOut, Page, Request, body_of
from commands.context import Outcome
from domain.merchant.commands import ChangeCommission, MoveMerchant, Reason, RegisterMerchant
from projections import merchant_ledger as ledger_view
from projections import merchants as view

router = APIRouter(tags=["merchants"], responses=ERRORS)
_READERS = "admin merchant auditor analyst"
RULES = (
    ("POST", "/merchants", "admin merchant"),
    ("GET", "/merchants", _READERS),
    ("GET", "/merchants/{}", _READERS),
    ("GET", "/merchants/{}/ledger", _READERS),
    *(
        ("POST", f"/merchants/{{}}/{t}", "admin")
        for t in ("review", "approve", "reject", "suspend", "reinstate", "commission")
    ),
)
Status = Literal["applied", "under_review", "approved", "rejected", "suspended"]
CommissionBody = body_of(ChangeCommission, path=("merchant_id",))


class TransitionBody(Request):
    reason: Reason | None = None


class MerchantAck(Ack):
    id: UUID
    status: Status


class CommissionRate(BaseModel):
    percent: str
    changed_at: datetime
    changed_by: str
    reason: str | None


class StatusChange(BaseModel):
    status: Status
    previous: Status | None
    changed_at: datetime
    changed_by: str
    reason: str | None


class Merchant(BaseModel):
    id: UUID
    name: str
    email: str
    country: str
    status: Status
    commission_percent: str
    commission_history: list[CommissionRate]
    status_history: list[StatusChange]
    version: int
    registered_at: datetime
    updated_at: datetime


class LedgerEntry(BaseModel):
    order_id: UUID
    line_id: str
    kind: Literal["delivery", "refund"]
    quantity: int
    rate_percent: str
    gross: MoneyOut
    commission: MoneyOut
    net: MoneyOut
    at: datetime
    position: int


class LedgerTotal(BaseModel):
    currency: str
    gross: MoneyOut
    commission: MoneyOut
    net: MoneyOut
    entries: int


class Ledger(BaseModel):
    merchant_id: UUID
    period_from: datetime | None
    period_to: datetime | None
    entries: list[LedgerEntry]
    totals: list[LedgerTotal]


def _ack(merchant_id: UUID | str, done: Outcome) -> MerchantAck:
    return MerchantAck(
        id=merchant_id, status=done.extra["status"], version=done.version, position=done.position
    )


def _merchant(row: dict[str, Any]) -> Merchant:
    return Merchant(
        **{**row, "commission_percent": _percent(row["commission_percent"])},
    )


def _percent(value: Any) -> str:
    """A rate as a plain decimal string (``12.5``, ``100``), never in exponent form."""
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return text


@router.post("/merchants", status_code=201, response_model=MerchantAck)
def register_merchant(body: RegisterMerchant, dispatch: DispatchDep, ctx: ContextDep):
    """A new merchant, ``applied``; a rate outside 0–100 is ``422 commission_out_of_range``."""
    done = dispatch(body, ctx)
    return _ack(done.extra["id"], done)


def _transition(transition: str):  # noqa: ANN202
    def move(
        merchant_id: UUID,
        dispatch: DispatchDep,
        ctx: ContextDep,
        body: TransitionBody | None = None,
    ) -> MerchantAck:
        reason = body.reason if body is not None else None
        command = MoveMerchant(merchant_id=merchant_id, transition=transition, reason=reason)
        return _ack(merchant_id, dispatch(command, ctx))

    move.__name__ = f"{transition}_merchant"
    move.__doc__ = (
        f"The review transition '{transition}' (applied → under_review → approved | rejected; "
        "approved ⇄ suspended); a move the table lacks is ``409 merchant_not_<status>``."
    )
    return move


for _t in ("review", "approve", "reject", "suspend", "reinstate"):
    router.add_api_route(
        f"/merchants/{{merchant_id}}/{_t}",
        _transition(_t),
        methods=["POST"],
        response_model=MerchantAck,
        name=f"{_t}_merchant",
    )


@router.post("/merchants/{merchant_id}/commission", response_model=MerchantAck)
def change_commission(
    merchant_id: UUID, body: CommissionBody, dispatch: DispatchDep, ctx: ContextDep
):
    """A new commission rate from now on (the history keeps each); deliveries recorded after it
    are charged at it."""
    command = ChangeCommission(merchant_id=merchant_id, **body.fields())
    return _ack(merchant_id, dispatch(command, ctx))


@router.get(
    "/merchants/{merchant_id}", response_model=Merchant, dependencies=[read_model(view.NAME)]
)
def get_merchant(merchant_id: UUID, container: ContainerDep, response: Response):
    found = view.get_merchant(container.pool, merchant_id)
    if found is None:
        raise ApiError(404, "merchant_not_found", f"Merchant {merchant_id} does not exist.")
    response.headers["ETag"] = f'"{found["version"]}"'
    return _merchant(found)


@router.get("/merchants", response_model=Page[Merchant], dependencies=[read_model(view.NAME)])
def list_merchants(
    container: ContainerDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    try:
        last = UUID(str(after[0])) if after else None
    except (ValueError, IndexError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None
    rows = view.list_merchants(container.pool, status=status, after=last, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[_merchant(r) for r in rows],
        next_cursor=encode_cursor([str(rows[-1]["id"])]) if more else None,
    )


def _money(amount: Any, currency: str) -> MoneyOut:
    return MoneyOut(amount=str(amount), currency=currency)


@router.get(
    "/merchants/{merchant_id}/ledger",
    response_model=Ledger,
    dependencies=[read_model(view.NAME), read_model(ledger_view.NAME)],
)
def get_ledger(
    merchant_id: UUID,
    container: ContainerDep,
    since: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    until: Annotated[IsoDateTime | None, Query(alias="to")] = None,
):
    """Per delivered line of the merchant's products: gross, commission and net; each refund
    reverses the units it covers (negative amounts); totals per currency. ``from`` inclusive,
    ``to`` exclusive, both RFC 3339 instants with their offset."""
    if view.get_merchant(container.pool, merchant_id) is None:
        raise ApiError(404, "merchant_not_found", f"Merchant {merchant_id} does not exist.")
    since = since.astimezone(UTC) if since is not None else None
    until = until.astimezone(UTC) if until is not None else None
    if since is not None and until is not None and until < since:
        raise ApiError(422, "invalid_period", "The period's 'to' is before its 'from'.")
    found = ledger_view.ledger(container.pool, merchant_id, since, until)
    entries = [
        LedgerEntry(
            order_id=e["order_id"],
            line_id=e["line_id"],
            kind=e["kind"],
            quantity=e["quantity"],
            rate_percent=_percent(e["rate"]),
            gross=_money(e["gross"], e["currency"]),
            commission=_money(e["commission"], e["currency"]),
            net=_money(e["net"], e["currency"]),
            at=e["at"],
            position=e["position"],
        )
        for e in found["entries"]
    ]
    totals = [
        LedgerTotal(
            currency=t["currency"],
            gross=_money(t["gross"], t["currency"]),
            commission=_money(t["commission"], t["currency"]),
            net=_money(t["net"], t["currency"]),
            entries=t["entries"],
        )
        for t in found["totals"]
    ]
    return Ledger(
        merchant_id=merchant_id,
        period_from=since,
        period_to=until,
        entries=entries,
        totals=totals,
    )
