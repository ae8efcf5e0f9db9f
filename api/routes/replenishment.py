"""Replenishment over HTTP: ``GET /replenishment/suggestions`` from the suggestions view, and
the suppliers' lead times, promised against actual (``GET /replenishment/supplier-lead-times``,
from the purchase orders view; ``docs/analytics.md``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, read_model
from api.routes.supply_common import READ, after_of, cursor_of
from api.schemas import ERRORS, Page
from domain.command import LocationCode, Sku
from projections import purchase_orders as orders_view
from projections import replenishment as view

router = APIRouter(tags=["replenishment"], responses=ERRORS)
RULES = (
    ("GET", "/replenishment/suggestions", READ),
    ("GET", "/replenishment/supplier-lead-times", "admin analyst auditor"),
)
Status = Literal["open", "closed", "unsourced"]


class SuggestionOut(BaseModel):
    id: UUID
    sku: str
    location: str
    status: Status
    quantity: int
    available: int
    reorder_point: int
    supplier_id: UUID | None
    purchase_order_id: UUID | None
    suggested_at: datetime
    closed_at: datetime | None
    close_reason: str | None


class LeadTimeOut(BaseModel):
    supplier_id: UUID
    orders_received: int
    promised_days: str
    actual_days: str
    first_receipt_days: str
    on_time: int


@router.get(
    "/replenishment/suggestions",
    response_model=Page[SuggestionOut],
    dependencies=[read_model(view.NAME)],
)
def list_suggestions(
    container: ContainerDep,
    status: Status | None = None,
    sku: Annotated[Sku | None, Query()] = None,
    location: Annotated[LocationCode | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    rows, last = view.list_suggestions(
        container.pool,
        status=status,
        sku=sku,
        location=location,
        limit=limit,
        after=after_of(cursor),
    )
    return Page(items=[SuggestionOut(**r) for r in rows], next_cursor=cursor_of(last))


@router.get(
    "/replenishment/supplier-lead-times",
    response_model=list[LeadTimeOut],
    dependencies=[read_model(orders_view.NAME)],
)
def supplier_lead_times(container: ContainerDep, supplier_id: UUID | None = None):
    return [LeadTimeOut(**r) for r in orders_view.supplier_lead_times(container.pool, supplier_id)]
