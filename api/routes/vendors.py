"""Dropship vendors over HTTP: registration, the vendors view (with the dropship locations
that name each) and each vendor's dropship requests. A dropship location itself is registered
with ``POST /locations`` (``type: dropship``, ``vendor_id``). ``RULES``: an admin registers,
staff and readers read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, Page
from domain.vendor.commands import RegisterVendor
from projections import vendors as view

router = APIRouter(tags=["vendors"], responses=ERRORS)
_READERS = "admin merchant auditor analyst"
RULES = (
    ("POST", "/vendors", "admin"),
    ("GET", "/vendors", _READERS),
    ("GET", "/vendors/{}", _READERS),
    ("GET", "/vendors/{}/dropship-requests", _READERS),
)


class VendorAck(Ack):
    id: UUID


class Vendor(BaseModel):
    id: UUID
    name: str
    email: str
    lead_time_days: int
    registered_at: datetime
    locations: list[str]


class RequestedLine(BaseModel):
    line_id: str
    sku: str
    quantity: int


class DropshipRequest(BaseModel):
    id: UUID
    order_id: UUID
    plan_id: UUID
    location: str
    lines: list[RequestedLine]
    requested: int
    shipped: int
    delivered: int
    status: Literal["requested", "partially_shipped", "shipped", "delivered"]
    requested_at: datetime
    updated_at: datetime


@router.post("/vendors", status_code=201, response_model=VendorAck)
def register_vendor(body: RegisterVendor, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(body, ctx)
    return VendorAck(id=done.extra["id"], version=done.version, position=done.position)


@router.get("/vendors/{vendor_id}", response_model=Vendor, dependencies=[read_model(view.NAME)])
def get_vendor(vendor_id: UUID, container: ContainerDep):
    found = view.get_vendor(container.pool, vendor_id)
    if found is None:
        raise ApiError(404, "vendor_not_found", f"Vendor {vendor_id} does not exist.")
    return Vendor(**found)


@router.get("/vendors", response_model=Page[Vendor], dependencies=[read_model(view.NAME)])
def list_vendors(
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    try:
        last = UUID(str(after[0])) if after else None
    except (ValueError, IndexError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None
    rows = view.list_vendors(container.pool, after=last, limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    return Page(
        items=[Vendor(**r) for r in rows],
        next_cursor=encode_cursor([str(rows[-1]["id"])]) if more else None,
    )


@router.get(
    "/vendors/{vendor_id}/dropship-requests",
    response_model=Page[DropshipRequest],
    dependencies=[read_model(view.NAME)],
)
def list_dropship_requests(
    vendor_id: UUID,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """The vendor's dropship requests, newest first: what it was asked to ship and how far its
    shipments carried each."""
    if view.get_vendor(container.pool, vendor_id) is None:
        raise ApiError(404, "vendor_not_found", f"Vendor {vendor_id} does not exist.")
    rows = view.vendor_requests(container.pool, vendor_id, limit=limit)
    return Page(items=[DropshipRequest(**r) for r in rows], next_cursor=None)
