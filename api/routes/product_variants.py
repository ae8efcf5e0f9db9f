"""Product variants over HTTP: add a variant, deactivate one, choose the master variant.
(A product's first variants come with it in ``POST /products``, see ``products``.)

Each route builds one command (``domain/product/commands.py``) from its path and body and
dispatches it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import ContextDep, DispatchDep
from api.routes.products import CommandAck, IdempotencyKey, ack
from api.schemas import ERRORS, body_of
from domain.product.commands import AddVariant, DeactivateVariant, SetMasterVariant

router = APIRouter(tags=["catalog"], responses=ERRORS)

AddVariantBody = body_of(AddVariant, path=("product_id",))
DeactivateVariantBody = body_of(DeactivateVariant, path=("product_id", "sku"))
SetMasterVariantBody = body_of(SetMasterVariant, path=("product_id",))


@router.post("/products/{product_id}/variants", status_code=201, response_model=CommandAck)
def add_variant(
    product_id: UUID,
    body: AddVariantBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    return ack(dispatch(AddVariant(product_id=product_id, **body.fields()), ctx))


@router.post("/products/{product_id}/variants/{sku}/deactivate", response_model=CommandAck)
def deactivate_variant(
    product_id: UUID, sku: str, body: DeactivateVariantBody, dispatch: DispatchDep, ctx: ContextDep
):
    command = DeactivateVariant(product_id=product_id, sku=sku, **body.fields())
    return ack(dispatch(command, ctx))


@router.post("/products/{product_id}/master-variant", response_model=CommandAck)
def set_master_variant(
    product_id: UUID, body: SetMasterVariantBody, dispatch: DispatchDep, ctx: ContextDep
):
    return ack(dispatch(SetMasterVariant(product_id=product_id, **body.fields()), ctx))
