"""Suppliers over HTTP: ``POST /suppliers`` (the body is RegisterSupplier), ``GET /suppliers``
and ``GET /suppliers/{id}`` from the suppliers view. Merchants and admins register them;
analysts and auditors read them too."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.routes.supply_common import MANAGE, READ, IdempotencyKey, after_of, cursor_of
from api.schemas import ERRORS, Ack, MoneyOut, Page
from domain.command import Sku
from domain.supply.commands import RegisterSupplier
from projections import suppliers as view

router = APIRouter(tags=["suppliers"], responses=ERRORS)
RULES = (
    ("POST", "/suppliers", MANAGE),
    ("GET", "/suppliers", READ),
    ("GET", "/suppliers/{}", READ),
)


class SupplierAck(Ack):
    id: UUID


class SupplierItemOut(BaseModel):
    sku: str
    cost: MoneyOut
    pack_size: int
    min_order_quantity: int


class SupplierOut(BaseModel):
    id: UUID
    name: str
    email: str
    lead_time_days: int
    items: list[SupplierItemOut]


@router.post("/suppliers", status_code=201, response_model=SupplierAck)
def register_supplier(
    body: RegisterSupplier,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    done = dispatch(body, ctx)
    return SupplierAck(id=done.extra["id"], version=done.version, position=done.position)


@router.get("/suppliers", response_model=Page[SupplierOut], dependencies=[read_model(view.NAME)])
def list_suppliers(
    container: ContainerDep,
    sku: Annotated[Sku | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    rows, last = view.list_suppliers(container.pool, sku=sku, limit=limit, after=after_of(cursor))
    return Page(items=[SupplierOut(**r) for r in rows], next_cursor=cursor_of(last))


@router.get(
    "/suppliers/{supplier_id}", response_model=SupplierOut, dependencies=[read_model(view.NAME)]
)
def get_supplier(supplier_id: UUID, container: ContainerDep):
    found = view.get_supplier(container.pool, supplier_id)
    if found is None:
        raise ApiError(404, "supplier_not_found", f"Supplier {supplier_id} does not exist.")
    return SupplierOut(**found)
