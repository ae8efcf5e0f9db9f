"""Bundles over HTTP: ``POST /bundles`` builds one CreateBundle and dispatches it; ``GET
/bundles/{id}`` answers from the bundles view, priced at the components' current prices.
``RULES`` are its rows of the authorization table: admins and merchants create bundles, and
whoever reads products reads bundles."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.schemas import ERRORS, Ack, MoneyOut
from domain.bundle.commands import CreateBundle
from projections import bundles as view

router = APIRouter(tags=["bundles"], responses=ERRORS)
RULES = (
    ("POST", "/bundles", "admin merchant"),
    ("GET", "/bundles/{}", "admin merchant analyst"),
)
IdempotencyKey = Annotated[str | None, Header()]


class BundleAck(Ack):
    id: UUID
    sku: str


class ComponentOut(BaseModel):
    sku: str
    quantity: int


class PricingOut(BaseModel):
    type: Literal["fixed_price", "percentage_discount", "component_sum"]
    value: str | None


class BundleOut(BaseModel):
    id: UUID
    sku: str
    name: str
    components: list[ComponentOut]
    pricing: PricingOut
    #: At the components' current prices.
    price: MoneyOut
    component_sum: MoneyOut
    savings: MoneyOut
    #: savings ÷ component_sum × 100, two decimals (0 when the sum is 0).
    savings_percent: str


@router.post("/bundles", status_code=201, response_model=BundleAck)
def create_bundle(
    body: CreateBundle,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    done = dispatch(body, ctx)
    return BundleAck(id=done.stream_id, sku=body.sku, version=done.version, position=done.position)


@router.get("/bundles/{bundle_id}", response_model=BundleOut, dependencies=[read_model(view.NAME)])
def get_bundle(bundle_id: UUID, container: ContainerDep):
    found = view.get_bundle(container.pool, bundle_id)
    if found is None:
        raise ApiError(404, "bundle_not_found", f"Bundle {bundle_id} does not exist.")
    return BundleOut(**found)
