"""Order history over HTTP: the list of modifications (the ``order_modifications`` view) and
the order's state as it was at a version or a time, folded from its events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, JsonValue

from api.deps import ContainerDep, read_model
from api.pagination import encode_cursor
from api.routes.orders import require_order, version_cursor
from api.schemas import ERRORS, IsoDateTime, Page
from commands import orders
from projections import order_detail
from projections.order_modifications import list_modifications

router = APIRouter(tags=["orders"], responses=ERRORS)


# ---- responses ---------------------------------------------------------------------------


class ModificationOut(BaseModel):
    version: int
    position: int
    field: str
    modification_type: str
    old_value: JsonValue
    new_value: JsonValue
    reason: str
    actor: str
    occurred_at: datetime


class OrderStateOut(BaseModel):
    id: str
    version: int
    status: str
    state: dict[str, Any]


# ---- queries -----------------------------------------------------------------------------


@router.get(
    "/orders/{order_id}/modifications",
    response_model=Page[ModificationOut],
    dependencies=[read_model("order_modifications"), read_model(order_detail.NAME)],
)
def get_modifications(
    order_id: UUID,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    cursor: str | None = None,
):
    require_order(container, order_id)
    rows = list_modifications(
        container.pool, order_id, limit=limit, after_version=version_cursor(cursor)
    )
    nxt = encode_cursor([rows[-1]["version"]]) if len(rows) == limit else None
    return Page(items=[ModificationOut(**r) for r in rows], next_cursor=nxt)


@router.get("/orders/{order_id}/state", response_model=OrderStateOut)
def get_state(
    order_id: UUID,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
):
    """The order as it was at ``?version=`` or ``?as_of=``, folded from its events. A version
    the stream has not reached is ``404 version_not_found``; ``as_of`` needs its offset."""
    state, at_version = orders.state_at(container.store, order_id, version=version, as_of=as_of)
    response.headers["ETag"] = f'"{at_version}"'
    return OrderStateOut(
        id=str(order_id), version=at_version, status=state.status, state=state.as_json()
    )
