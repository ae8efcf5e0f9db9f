"""Search over HTTP: products (text with typo tolerance, filters, facets, sorts, cursor
paging), suggestions, and order search for staff. ``RULES`` are the routes' rows of the
authorization table: shoppers (customers) and staff search products; merchants and admins
search orders. How search works: ``docs/search.md``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import ContainerDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.routes.orders import Status, as_utc
from api.schemas import ERRORS, IsoDateTime
from projections import order_search, product_search_query, search_text
from projections.product_search import NAME as PRODUCTS_VIEW

router = APIRouter(tags=["search"], responses=ERRORS)
_SHOPPERS = "admin merchant analyst customer"
RULES = (
    ("GET", "/search/products", _SHOPPERS),
    ("GET", "/search/suggest", _SHOPPERS),
    ("GET", "/search/orders", "admin merchant"),
)
MAX_Q = 200
_PRODUCT_PARAMS = {
    "q",
    "category_id",
    "price_min",
    "price_max",
    "rating_min",
    "in_stock",
    "sort",
    "limit",
    "cursor",
    "min_position",
}
_ATTR = "attr."
_MAX_ATTRIBUTES = 20


class Money(BaseModel):
    amount: str
    currency: str


class ProductHit(BaseModel):
    id: UUID
    sku: str
    name: str
    description: str
    brand: str | None
    category_ids: list[UUID]
    attributes: dict[str, Any]
    #: the effective price a guest pays for one unit now (``docs/search.md``)
    price: Money | None
    #: the product's own price, before pricing rules
    base_price: Money | None
    rating: str | None
    in_stock: bool
    created_at: datetime
    score: float


class CategoryCount(BaseModel):
    id: UUID
    count: int


class ValueCount(BaseModel):
    value: str
    count: int


class PriceRange(BaseModel):
    min: str | None
    max: str | None


class Facets(BaseModel):
    categories: list[CategoryCount]
    attributes: dict[str, list[ValueCount]]
    price: PriceRange


class ProductResults(BaseModel):
    items: list[ProductHit]
    total: int
    facets: Facets
    next_cursor: str | None = None


class SuggestedProduct(BaseModel):
    id: UUID
    name: str


class SuggestedCategory(BaseModel):
    id: UUID
    name: str
    slug: str


class Suggestions(BaseModel):
    products: list[SuggestedProduct]
    categories: list[SuggestedCategory]


class OrderHit(BaseModel):
    id: UUID
    number: int
    customer_id: UUID
    status: str
    skus: list[str]
    tags: list[str]
    total: Money
    created_at: datetime


class OrderResults(BaseModel):
    items: list[OrderHit]
    total: int
    next_cursor: str | None = None


def _bad(code: str, message: str, **details: Any) -> ApiError:
    return ApiError(422, code, message, details or None)


def _amount(name: str, raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    if re.fullmatch(r"[0-9]{1,18}(\.[0-9]{1,12})?", raw.strip()) is None:
        raise _bad("invalid_price", f"{name} must be a decimal amount of 0 or more.", field=name)
    return Decimal(raw.strip())


def _attributes(request: Request) -> dict[str, tuple[str, ...]]:
    unknown = sorted(
        k for k in request.query_params if k not in _PRODUCT_PARAMS and not k.startswith(_ATTR)
    )
    if unknown:
        raise _bad("unknown_filter", f"Unknown search parameter {unknown[0]!r}.", names=unknown)
    found: dict[str, tuple[str, ...]] = {}
    for key, value in request.query_params.multi_items():
        if not key.startswith(_ATTR):
            continue
        name = key[len(_ATTR) :]
        if not name or len(name) > 100 or "=" in name or len(value) > 200:
            raise _bad("invalid_attribute_filter", f"{key!r} is not an attribute filter.")
        found[name] = (*found.get(name, ()), value)
    if len(found) > _MAX_ATTRIBUTES:
        raise _bad("too_many_filters", f"At most {_MAX_ATTRIBUTES} attribute filters.")
    return found


def _product_cursor(cursor: str | None, key_type: str) -> tuple[str, UUID] | None:
    """The cursor's (key, id); it names its key's type, which must be this query's."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    malformed = ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    if len(key) != 3 or key[0] != key_type or not isinstance(key[1], str) or len(key[1]) > 64:
        raise malformed
    try:
        last = UUID(str(key[2]))
        if not _KEY_SHAPES[key_type](key[1]):
            raise ValueError(key[1])
    except ValueError:
        raise malformed from None
    return key[1], last


def _real(value: str) -> bool:
    return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?", value) is not None and (
        abs(float(value)) < 1e30
    )


def _timestamp(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


#: What a cursor's key looks like for each key type (the query casts it in SQL).
_KEY_SHAPES = {
    "real": _real,
    "numeric": lambda v: re.fullmatch(r"-?[0-9]{1,30}(\.[0-9]{1,30})?", v) is not None,
    "timestamptz": _timestamp,
}


@router.get(
    "/search/products", response_model=ProductResults, dependencies=[read_model(PRODUCTS_VIEW)]
)
async def search_products(
    request: Request,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=MAX_Q)] = "",
    category_id: UUID | None = None,
    price_min: Annotated[str | None, Query(max_length=40)] = None,
    price_max: Annotated[str | None, Query(max_length=40)] = None,
    rating_min: Annotated[float | None, Query(ge=1, le=5, allow_inf_nan=False)] = None,
    in_stock: bool = False,
    sort: Literal["relevance", "price_asc", "price_desc", "rating", "newest"] = "relevance",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
):
    """Active products matching every word of ``q`` (one typo per word of 4 letters or more),
    in the category or its descendants, at an effective price in the range, rated at least
    ``rating_min``, with every ``attr.<name>=<value>`` (repeat a name for any of its values),
    available somewhere when ``in_stock``; ``total`` and the facets count that whole set."""
    low, high = _amount("price_min", price_min), _amount("price_max", price_max)
    key_type = product_search_query.sort_key(sort, bool(search_text.query_words(q)))[2]
    query = product_search_query.SearchQuery(
        q=q,
        category_id=category_id,
        price_min=low,
        price_max=high,
        rating_min=None if rating_min is None else Decimal(str(rating_min)),
        in_stock=in_stock,
        attributes=_attributes(request),
        sort=sort,
        limit=limit,
        after=_product_cursor(cursor, key_type),
    )
    # A cached answer is read on the event loop; a search that must run goes to a thread.
    now = datetime.now(UTC)
    found = await product_search_query.cached(
        request.app.state.async_reads, container.pool, query, now
    )
    body = None if found is None else found.get("encoded")
    if body is None:
        body = await run_in_threadpool(_encoded, container.pool, query, now, key_type, found)
    return Response(body, media_type="application/json")


def _encoded(
    pool: Any,
    query: product_search_query.SearchQuery,
    now: datetime,
    key_type: str,
    found: dict[str, Any] | None,
) -> str:
    """The body answering ``query`` (searched unless ``found``). An answer is encoded once and
    kept with it: its body depends only on the answer and the key type, which the query (the
    cache's key) fixes."""
    if found is None:
        found = product_search_query.search(pool, query, now)
    body = found.get("encoded")
    if body is None:
        after = found["after"]
        body = ProductResults(
            items=[_hit(i) for i in found["items"]],
            total=found["total"],
            facets=Facets(**found["facets"]),
            next_cursor=encode_cursor([key_type, after[0], str(after[1])]) if after else None,
        ).model_dump_json()
        found["encoded"] = body
    return body


def _hit(item: dict[str, Any]) -> ProductHit:
    currency = item["currency"]

    def money(amount: str | None) -> Money | None:
        return (
            None if amount is None or currency is None else Money(amount=amount, currency=currency)
        )

    return ProductHit(
        **{k: item[k] for k in ("id", "sku", "name", "description", "brand", "attributes")},
        category_ids=item["category_ids"],
        price=money(item["price"]),
        base_price=money(item["base_amount"]),
        rating=item["rating"],
        in_stock=item["in_stock"],
        created_at=item["created_at"],
        score=item["score"],
    )


@router.get("/search/suggest", response_model=Suggestions, dependencies=[read_model(PRODUCTS_VIEW)])
def suggest(
    container: ContainerDep,
    q: Annotated[str, Query(max_length=MAX_Q)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
):
    """Active products' names and categories starting with ``q`` (case aside)."""
    return Suggestions(**product_search_query.suggest(container.pool, q, limit))


@router.get(
    "/search/orders",
    response_model=OrderResults,
    dependencies=[read_model(order_search.NAME)],
)
def search_orders(
    container: ContainerDep,
    q: Annotated[str, Query(max_length=MAX_Q)] = "",
    status: Status | None = None,
    from_: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    to: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
):
    """Orders whose number, customer email, a line's SKU or a tag is ``q``, in ``status``,
    placed in ``[from, to)`` (a time without offset is UTC); newest first; ``total`` counts
    the filtered set."""
    after = None
    key = decode_cursor(cursor)
    if key is not None:
        try:
            after = (datetime.fromisoformat(str(key[0])), UUID(str(key[1])))
        except (ValueError, IndexError):
            raise ApiError(
                400, "malformed_cursor", "The cursor is not one this API issued."
            ) from None
        if after[0].tzinfo is None:
            raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    found = order_search.search_orders(
        container.pool,
        order_search.OrderSearch(
            q=q,
            status=status,
            created_from=as_utc(from_),
            created_to=as_utc(to),
            limit=limit,
            after=after,
        ),
    )
    last = found["after"]
    return OrderResults(
        items=[
            OrderHit(
                **{k: r[k] for k in ("id", "number", "customer_id", "status", "skus", "tags")},
                total=Money(amount=r["total"], currency=r["currency"]),
                created_at=r["created_at"],
            )
            for r in found["items"]
        ],
        total=found["total"],
        next_cursor=encode_cursor([last[0].isoformat(), str(last[1])]) if last else None,
    )
