"""Locations: register and list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, read_model
from api.schemas import ERRORS, LocationCode, Page, Request
from commands import locations

router = APIRouter(tags=["locations"], responses=ERRORS)


class RegisterLocation(Request):
    code: LocationCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: Literal["warehouse", "store", "distribution_center", "fulfillment_center"]
    priority: Annotated[int, Field(ge=0, le=1_000_000)] = 100


class LocationAck(BaseModel):
    id: str
    code: str
    version: int
    position: int


class LocationOut(BaseModel):
    code: str
    name: str
    type: str
    priority: int
    active: bool
    version: int


@router.post("/locations", status_code=201, response_model=LocationAck)
def register_location(
    body: RegisterLocation,
    container: ContainerDep,
    ctx: ContextDep,
    idempotency_key: Annotated[str | None, Header()] = None,
):
    result = locations.register(
        container.store,
        ctx,
        code=body.code,
        name=body.name,
        type=body.type,
        priority=body.priority,
    )
    return LocationAck(
        id=str(result.stream_id), code=body.code, version=result.version, position=result.position
    )


@router.get("/locations", response_model=Page[LocationOut], dependencies=[read_model("locations")])
def list_locations(container: ContainerDep):
    from projections.locations import list_locations as query

    return Page(items=[LocationOut(**r) for r in query(container.pool)], next_cursor=None)
