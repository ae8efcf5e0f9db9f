"""Products over HTTP: create, read, list, update details, change price and lifecycle, and
the change history; plus ``CommandAck`` that ``product_variants`` and ``categories`` use too.

Routes are thin: each builds one command (``domain/product/commands.py``; the body is the
command, or the command minus its path fields) and dispatches it, or queries a read model.
A new product's id is made by its handler (``commands/products.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, MoneyOut, Page, body_of
from commands import products
from commands.context import Outcome
from domain.errors import NotFound
from domain.product.commands import (
    ChangeLifecycle,
    ChangePrice,
    CreateProduct,
    Lifecycle,
    UpdateProductDetails,
)
from projections.product_catalog import get_product, list_products
from projections.product_history import product_history
from projections.reviews import NAME as REVIEWS_VIEW
from projections.reviews import product_rating

router = APIRouter(tags=["catalog"], responses=ERRORS)

IdempotencyKey = Annotated[str | None, Header()]


# ---- request and response models ---------------------------------------------------------

UpdateProductBody = body_of(UpdateProductDetails, path=("product_id",))
ChangePriceBody = body_of(ChangePrice, path=("product_id",))
ChangeLifecycleBody = body_of(ChangeLifecycle, path=("product_id",))


class ProductAck(BaseModel):
    id: str
    sku: str
    version: int
    position: int


class CommandAck(BaseModel):
    id: str
    version: int
    position: int


class VariantOut(BaseModel):
    sku: str
    options: dict[str, str]
    price: MoneyOut | None
    active: bool
    master: bool


class RatingOut(BaseModel):
    """Over the product's approved reviews (``average`` null while it has none)."""

    average: float | None
    count: int
    histogram: dict[str, int]


class ProductOut(BaseModel):
    id: str
    sku: str
    name: str
    description: str
    brand: str | None
    status: Lifecycle
    price: MoneyOut | None
    category_ids: list[str]
    attributes: dict[str, Any]
    variants: list[VariantOut]
    version: int
    created_at: datetime
    updated_at: datetime
    #: Only on ``GET /products/{id}`` (the reviews view, joined when it is read).
    rating: RatingOut | None = None


class HistoryEntry(BaseModel):
    field: str
    old: Any
    new: Any
    reason: str | None
    change_type: str | None
    actor: str
    occurred_at: datetime
    version: int


# ---- helpers (ack serves product_variants and categories too) ----------------------------


def ack(result: Outcome) -> CommandAck:
    return CommandAck(id=str(result.stream_id), version=result.version, position=result.position)


def _product_out(row: dict[str, Any]) -> ProductOut:
    price = None
    if row["price_amount"] is not None:
        price = MoneyOut(amount=str(row["price_amount"]), currency=row["price_currency"])
    return ProductOut(
        **{k: row[k] for k in ("sku", "name", "description", "brand", "status", "attributes")},
        id=str(row["id"]),
        price=price,
        category_ids=[str(c) for c in row["category_ids"]],
        variants=row["variants"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _await_product(container, product_id: UUID, view: str) -> None:
    """Not found unless the product exists; else wait until ``view`` has seen its last event."""
    version = container.store.stream_version(product_id)
    if version == 0 or not products.get(container.store, product_id).exists:
        raise NotFound(f"Product {product_id} does not exist.", code="product_not_found")
    position = container.store.position_of(product_id, version) or 0
    if not container.runner.wait_for(view, position, timeout_s=5.0):
        raise ApiError(
            503, "projection_lagging", f"The '{view}' view is behind.", headers={"Retry-After": "1"}
        )


# ---- products ----------------------------------------------------------------------------


@router.post("/products", status_code=201, response_model=ProductAck)
def create_product(
    body: CreateProduct,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    result = dispatch(body, ctx)
    return ProductAck(
        id=str(result.stream_id), sku=body.sku, version=result.version, position=result.position
    )


@router.get(
    "/products/{product_id}",
    response_model=ProductOut,
    dependencies=[read_model("product_catalog"), read_model(REVIEWS_VIEW)],
)
def get_product_route(product_id: UUID, container: ContainerDep, response: Response):
    row = get_product(container.pool, product_id)
    if row is None:
        _await_product(container, product_id, "product_catalog")
        row = get_product(container.pool, product_id)
        if row is None:
            raise NotFound(f"Product {product_id} does not exist.", code="product_not_found")
    response.headers["ETag"] = f'"{row["version"]}"'
    return _product_out(row).model_copy(
        update={"rating": RatingOut(**product_rating(container.pool, product_id))}
    )


@router.get(
    "/products", response_model=Page[ProductOut], dependencies=[read_model("product_catalog")]
)
def list_products_route(
    container: ContainerDep,
    status: Lifecycle | None = None,
    category_id: UUID | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), UUID(after[1]))
        except (ValueError, TypeError, IndexError):
            raise ApiError(
                400, "malformed_cursor", "The cursor is not one this API issued."
            ) from None
    rows = list_products(
        container.pool, status=status, category_id=category_id, q=q, limit=limit + 1, after=after
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor([last["created_at"].isoformat(), str(last["id"])])
    return Page(items=[_product_out(r) for r in rows], next_cursor=next_cursor)


@router.patch("/products/{product_id}", response_model=CommandAck)
def update_product(
    product_id: UUID, body: UpdateProductBody, dispatch: DispatchDep, ctx: ContextDep
):
    """Only the fields present are changed; ``brand`` may be cleared with null."""
    return ack(dispatch(UpdateProductDetails(product_id=product_id, **body.given()), ctx))


@router.post("/products/{product_id}/price", response_model=CommandAck)
def change_price(
    product_id: UUID,
    body: ChangePriceBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    return ack(dispatch(ChangePrice(product_id=product_id, **body.fields()), ctx))


@router.post("/products/{product_id}/lifecycle", response_model=CommandAck)
def change_lifecycle(
    product_id: UUID,
    body: ChangeLifecycleBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    return ack(dispatch(ChangeLifecycle(product_id=product_id, **body.fields()), ctx))


@router.get(
    "/products/{product_id}/history",
    response_model=Page[HistoryEntry],
    dependencies=[read_model("product_history")],
)
def get_history(product_id: UUID, container: ContainerDep):
    if get_product(container.pool, product_id) is None:  # unseen yet, or unknown
        _await_product(container, product_id, "product_history")
    rows = product_history(container.pool, product_id)
    return Page(items=[HistoryEntry(**r) for r in rows], next_cursor=None)
