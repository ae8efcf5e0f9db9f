"""Pricing over HTTP: the rules (create, change, deactivate; read from the ``pricing_rules``
view) and the price quote, ``GET /prices/{sku}``, which answers from the write side with the
function placement prices lines with (``commands/prices.py``), so the quote is what an order
placed then pays. ``RULES`` are their rows of the authorization table: admins and merchants
write; analysts and auditors read; a customer gets the quote for themself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, IsoDateTime, MoneyOut, Page, Sku, body_of
from commands.context import Outcome
from commands.prices import Buyer, quote
from domain.order.values import MAX_QUANTITY
from domain.pricing.commands import CreatePricingRule, DeactivatePricingRule, UpdatePricingRule
from domain.pricing.rules import RULE_TYPES
from projections import pricing_rules as view

router = APIRouter(tags=["pricing"], responses=ERRORS)
RULES = (
    ("POST", "/pricing-rules", "admin merchant"),
    ("POST", "/pricing-rules/*", "admin merchant"),
    ("PATCH", "/pricing-rules/*", "admin merchant"),
    ("GET", "/pricing-rules", "admin merchant analyst auditor"),
    ("GET", "/pricing-rules/*", "admin merchant analyst auditor"),
    ("GET", "/prices/{}", "admin merchant analyst auditor customer:mine"),
)
UpdateBody = body_of(UpdatePricingRule, path=("rule_id",))
DeactivateBody = body_of(DeactivatePricingRule, path=("rule_id",))
RuleType = Literal["tiered", "segment", "geographic", "time_based", "cost_plus"]
assert set(RuleType.__args__) == set(RULE_TYPES)  # type: ignore[attr-defined]


class PricingRuleAck(Ack):
    id: UUID


class PricingRuleOut(BaseModel):
    id: UUID
    name: str
    type: str
    status: str
    priority: int
    scope: dict[str, Any]
    config: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None
    deactivation_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PriceOut(BaseModel):
    sku: str
    base_price: MoneyOut
    price: MoneyOut
    #: The rule that set the price (None: the catalog's price).
    rule_id: UUID | None
    rule_type: str | None


def _ack(rule_id: UUID | str, done: Outcome) -> PricingRuleAck:
    return PricingRuleAck(id=rule_id, version=done.version, position=done.position)


@router.post("/pricing-rules", status_code=201, response_model=PricingRuleAck)
def create_pricing_rule(body: CreatePricingRule, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(body, ctx)
    return _ack(done.extra["id"], done)


@router.patch("/pricing-rules/{rule_id}", response_model=PricingRuleAck)
def update_pricing_rule(rule_id: UUID, body: UpdateBody, dispatch: DispatchDep, ctx: ContextDep):
    """Only the fields present change; ``valid_from`` and ``valid_to`` may be cleared with
    null. The type never changes."""
    return _ack(rule_id, dispatch(UpdatePricingRule(rule_id=rule_id, **body.given()), ctx))


@router.post("/pricing-rules/{rule_id}/deactivate", response_model=PricingRuleAck)
def deactivate_pricing_rule(
    rule_id: UUID, dispatch: DispatchDep, ctx: ContextDep, body: DeactivateBody | None = None
):
    fields = body.fields() if body is not None else {}
    return _ack(rule_id, dispatch(DeactivatePricingRule(rule_id=rule_id, **fields), ctx))


@router.get(
    "/pricing-rules/{rule_id}", response_model=PricingRuleOut, dependencies=[read_model(view.NAME)]
)
def get_pricing_rule(rule_id: UUID, container: ContainerDep, response: Response):
    row = view.get_rule(container.pool, rule_id)
    if row is None:
        raise ApiError(404, "pricing_rule_not_found", f"Pricing rule {rule_id} does not exist.")
    response.headers["ETag"] = f'"{row["version"]}"'
    return PricingRuleOut(**row)


@router.get(
    "/pricing-rules", response_model=Page[PricingRuleOut], dependencies=[read_model(view.NAME)]
)
def list_pricing_rules(
    container: ContainerDep,
    status: Literal["active", "inactive"] | None = None,
    type: RuleType | None = None,  # noqa: A002 - the field's name in the contract
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]).isoformat(), str(UUID(after[1])))
        except (ValueError, TypeError, IndexError):
            raise ApiError(
                400, "malformed_cursor", "The cursor is not one this API issued."
            ) from None
    rows = view.list_rules(
        container.pool, status=status, rule_type=type, after=after, limit=limit + 1
    )
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if more else None
    next_cursor = encode_cursor([last["created_at"].isoformat(), str(last["id"])]) if last else None
    return Page(items=[PricingRuleOut(**r) for r in rows], next_cursor=next_cursor)


@router.get("/prices/{sku}", response_model=PriceOut)
async def get_price(
    sku: Sku,
    container: ContainerDep,
    quantity: Annotated[int, Query(ge=1, le=MAX_QUANTITY)] = 1,
    customer_id: UUID | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    at: Annotated[IsoDateTime | None, Query()] = None,
):
    """What one line of ``quantity`` units pays per unit in an order placed now (or ``at``,
    RFC 3339 with its offset) by ``customer_id`` shipping to ``country``/``region``: the
    rule that sets it, or the catalog's price. Unknown SKU: ``404 unknown_sku``; a SKU not
    for sale: ``422 product_not_active``, as placement answers."""
    buyer = Buyer(customer_id, country, region)
    when = at or datetime.now(UTC)
    write = container.dispatcher.write
    found = await run_in_threadpool(quote, write, sku, quantity, buyer, when)
    return PriceOut(
        sku=found.sku,
        base_price=MoneyOut(**found.base_price.as_json()),
        price=MoneyOut(**found.price.as_json()),
        rule_id=found.rule_id,
        rule_type=found.rule_type,
    )
