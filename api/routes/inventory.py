"""Inventory over HTTP: receipts, adjustments, transfers and thresholds per SKU (commands), and
levels and movements (queries on the inventory read models). Reservations belong to the order
saga and are not exposed here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Page, body_of
from commands.context import Outcome
from domain.inventory.commands import AdjustStock, ReceiveStock, SetThresholds, TransferStock
from projections import inventory_levels, inventory_movements, skus

router = APIRouter(tags=["inventory"], responses=ERRORS)

SkuPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Limit = Annotated[int, Query(ge=1, le=500)]


ReceiveStockBody = body_of(ReceiveStock, path=("sku",))
AdjustStockBody = body_of(AdjustStock, path=("sku",))
TransferStockBody = body_of(TransferStock, path=("sku",))
SetThresholdsBody = body_of(SetThresholds, path=("sku",))


class InventoryAck(BaseModel):
    """The SKU's totals right after the command, from the aggregate itself."""

    sku: str
    version: int
    position: int
    on_hand: int
    reserved: int
    available: int


class LocationLevel(BaseModel):
    location: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int | None = None
    reorder_quantity: int | None = None
    max_stock: int | None = None
    low_stock: bool


class SkuInventory(BaseModel):
    sku: str
    version: int
    on_hand: int
    reserved: int
    available: int
    locations: list[LocationLevel]


class LevelRow(LocationLevel):
    sku: str
    updated_at: datetime


class Movement(BaseModel):
    position: int
    sku: str
    location: str
    type: str
    quantity: int = Field(description="Signed: negative when units leave the location.")
    reference: str | None = None
    reason: str | None = None
    actor: str
    occurred_at: datetime


def _ack(result: Outcome, response: Response) -> InventoryAck:
    response.headers["ETag"] = f'"{result.version}"'
    x = result.extra
    return InventoryAck(
        sku=x["sku"],
        version=result.version,
        position=result.position,
        on_hand=x["on_hand"],
        reserved=x["reserved"],
        available=x["available"],
    )


def _not_found(sku: str) -> ApiError:
    return ApiError(404, "inventory_not_found", f"No inventory is known for SKU '{sku}'.")


@router.post("/inventory/{sku}/receipts", response_model=InventoryAck)
def receive_stock(
    sku: SkuPath, body: ReceiveStockBody, dispatch: DispatchDep, ctx: ContextDep, response: Response
):
    return _ack(dispatch(ReceiveStock(sku=sku, **body.fields()), ctx), response)


@router.post("/inventory/{sku}/adjustments", response_model=InventoryAck)
def adjust_stock(
    sku: SkuPath, body: AdjustStockBody, dispatch: DispatchDep, ctx: ContextDep, response: Response
):
    return _ack(dispatch(AdjustStock(sku=sku, **body.fields()), ctx), response)


@router.post("/inventory/{sku}/transfers", response_model=InventoryAck)
def transfer_stock(
    sku: SkuPath,
    body: TransferStockBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    response: Response,
):
    return _ack(dispatch(TransferStock(sku=sku, **body.fields()), ctx), response)


@router.put("/inventory/{sku}/thresholds", response_model=InventoryAck)
def set_thresholds(
    sku: SkuPath,
    body: SetThresholdsBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    response: Response,
):
    return _ack(dispatch(SetThresholds(sku=sku, **body.fields()), ctx), response)


@router.get(
    "/inventory",
    response_model=Page[LevelRow],
    dependencies=[read_model(inventory_levels.NAME)],
)
def list_inventory(
    container: ContainerDep,
    low_stock: bool | None = None,
    location: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = None,
    limit: Limit = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    if after is not None and (len(after) != 2 or not all(isinstance(k, str) for k in after)):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    rows = inventory_levels.list_levels(
        container.pool,
        low_stock=low_stock,
        location=location,
        after=tuple(after) if after else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    nxt = encode_cursor([page[-1]["sku"], page[-1]["location"]]) if len(rows) > limit else None
    return Page(items=[LevelRow(**r) for r in page], next_cursor=nxt)


@router.get(
    "/inventory/{sku}",
    response_model=SkuInventory,
    dependencies=[read_model(inventory_levels.NAME), read_model(skus.NAME)],
)
def get_inventory(sku: SkuPath, container: ContainerDep, response: Response):
    found = inventory_levels.sku_levels(container.pool, sku)
    if found is None:
        if not skus.is_claimed(container.pool, sku):
            raise _not_found(sku)
        found = {
            "sku": sku,
            "version": 0,
            "on_hand": 0,
            "reserved": 0,
            "available": 0,
            "locations": [],
        }
    response.headers["ETag"] = f'"{found["version"]}"'
    return SkuInventory(**found)


@router.get(
    "/inventory/{sku}/movements",
    response_model=Page[Movement],
    dependencies=[read_model(inventory_movements.NAME), read_model(skus.NAME)],
)
def list_movements(
    sku: SkuPath, container: ContainerDep, limit: Limit = 50, cursor: str | None = None
):
    after = decode_cursor(cursor)
    if after is not None and (len(after) != 2 or not all(isinstance(k, int) for k in after)):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    rows = inventory_movements.sku_movements(
        container.pool, sku, after=tuple(after) if after else None, limit=limit + 1
    )
    if not rows and after is None and not skus.is_claimed(container.pool, sku):
        raise _not_found(sku)
    page = rows[:limit]
    nxt = encode_cursor([page[-1]["position"], page[-1]["seq"]]) if len(rows) > limit else None
    return Page(items=[Movement(**r) for r in page], next_cursor=nxt)
