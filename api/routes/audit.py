"""Auditors: verify the hash chain, and the past state of any aggregate (time travel): at
``?version=`` (one the stream has not reached is ``404 version_not_found``) or ``?as_of=``
(an RFC 3339 instant with its offset; without one, ``422``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from api.deps import ContainerDep
from api.schemas import ERRORS, IsoDateTime
from audit.verify import verify
from commands.time_travel import jsonable, state_at
from domain.aggregate import AggregateType
from domain.ids import inventory_stream, location_stream
from domain.inventory.state import INVENTORY
from domain.location.state import LOCATION
from domain.product.state import PRODUCT

router = APIRouter(tags=["audit"], responses=ERRORS)
Key = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Version = Annotated[int | None, Query(ge=1)]


class VerifyOut(BaseModel):
    ok: bool
    events_checked: int
    head: int
    head_hash: str
    first_bad_position: int | None
    problem: str | None
    unchained: int


class PastState(BaseModel):
    id: str
    stream_id: str
    stream_type: str
    version: int
    as_of: str | None
    state: dict[str, Any]


@router.get("/audit/verify", response_model=VerifyOut)
def verify_chain(container: ContainerDep):
    """Walk the hash chain over the whole event log; report the first bad position."""
    mac_key = container.chainer.mac_key if container.chainer is not None else None
    return VerifyOut(**verify(container.pool, mac_key=mac_key).as_json())


def _past(
    container,  # noqa: ANN001
    response: Response,
    aggregate: AggregateType,
    kind: str,
    key: str,
    stream_id: UUID,
    version: int | None,
    as_of: datetime | None,
) -> PastState:
    state, at_version = state_at(
        container.store, aggregate, stream_id, kind=kind, version=version, as_of=as_of
    )
    response.headers["ETag"] = f'"{at_version}"'
    return PastState(
        id=key,
        stream_id=str(stream_id),
        stream_type=aggregate.stream_type,
        version=at_version,
        as_of=as_of.isoformat() if as_of else None,
        state=jsonable(state),
    )


@router.get("/products/{product_id}/state", response_model=PastState)
def product_state(
    product_id: UUID,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """The product as it was at ``?version=`` or ``?as_of=``, folded from its events."""
    return _past(
        container, response, PRODUCT, "product", str(product_id), product_id, version, as_of
    )


@router.get("/inventory/{sku}/state", response_model=PastState)
def inventory_state(
    sku: Key,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """A SKU's stock and reservations as they were, folded from its events."""
    return _past(
        container, response, INVENTORY, "inventory", sku, inventory_stream(sku), version, as_of
    )


@router.get("/locations/{code}/state", response_model=PastState)
def location_state(
    code: Key,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """A location as it was, folded from its events."""
    return _past(
        container, response, LOCATION, "location", code, location_stream(code), version, as_of
    )
