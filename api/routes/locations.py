"""Locations: register (the body is the RegisterLocation command) and list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.schemas import ERRORS, Page
from domain.location.commands import RegisterLocation

router = APIRouter(tags=["locations"], responses=ERRORS)


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
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: Annotated[str | None, Header()] = None,
):
    result = dispatch(body, ctx)
    return LocationAck(
        id=str(result.stream_id), code=body.code, version=result.version, position=result.position
    )


@router.get("/locations", response_model=Page[LocationOut], dependencies=[read_model("locations")])
def list_locations(container: ContainerDep):
    from projections.locations import list_locations as query

    return Page(items=[LocationOut(**r) for r in query(container.pool)], next_cursor=None)
