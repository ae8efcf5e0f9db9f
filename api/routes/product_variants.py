"""Product variants over HTTP: add a variant, deactivate one, choose the master variant.
(A product's first variants come with it in ``POST /products``, see ``products``.)"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import ContainerDep, ContextDep
from api.routes.products import CommandAck, IdempotencyKey, Reason, VariantIn, ack, money
from api.schemas import ERRORS, Request, Sku
from commands import products
from domain.product.decide import NewVariant

router = APIRouter(tags=["catalog"], responses=ERRORS)


# ---- request bodies ----------------------------------------------------------------------


class DeactivateVariant(Request):
    reason: Reason | None = None


class SetMasterVariant(Request):
    sku: Sku


# ---- commands ----------------------------------------------------------------------------


@router.post("/products/{product_id}/variants", status_code=201, response_model=CommandAck)
def add_variant(
    product_id: UUID,
    body: VariantIn,
    container: ContainerDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    variant = NewVariant(body.sku, body.options, money(body.price))
    return ack(products.add_variant(container.store, ctx, product_id, variant))


@router.post("/products/{product_id}/variants/{sku}/deactivate", response_model=CommandAck)
def deactivate_variant(
    product_id: UUID, sku: str, body: DeactivateVariant, container: ContainerDep, ctx: ContextDep
):
    result = products.deactivate_variant(container.store, ctx, product_id, sku, body.reason)
    return ack(result)


@router.post("/products/{product_id}/master-variant", response_model=CommandAck)
def set_master_variant(
    product_id: UUID, body: SetMasterVariant, container: ContainerDep, ctx: ContextDep
):
    return ack(products.set_master_variant(container.store, ctx, product_id, body.sku))
