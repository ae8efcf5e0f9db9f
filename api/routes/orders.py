"""Orders over HTTP: place, modify, read one and list; the order document's response models.

Notes, tags and timeline entries are in ``order_notes``; modifications and past state in
``order_history``; lines, changes, fulfillment and returns in their own modules. Routes are
thin: they build one command (``domain.order.commands``; prices, totals and old values come
from the server, never the client) and dispatch it, or call a read-model query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Response
from fastapi import Request as HttpRequest
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.deps import (
    ContainerDep,
    ContextDep,
    Dispatch,
    DispatchDep,
    MinPosition,
    context_for,
    read_model,
    request_id_of,
    wait_for_view,
)
from api.errors import ApiError
from api.fast_path import declared_json, fast_route, header, query_params, send_json
from api.pagination import decode_cursor, encode_cursor
from api.request_limits import BODY
from api.schemas import ERRORS, IsoDateTime, MoneyOut, Page, body_of
from commands.context import CommandContext
from domain.order.commands import ModifyOrder, PlaceOrder
from domain.order.status import STATUSES
from projections.order_detail import get_order_async, order_exists, public_document
from projections.order_summaries import OrderFilter, list_orders

router = APIRouter(tags=["orders"], responses=ERRORS)

Status = Literal[STATUSES]  # type: ignore[valid-type]


# ---- request bodies: POST /orders takes PlaceOrder itself -------------------------------

ModifyOrderBody = body_of(ModifyOrder, path=("order_id",))


# ---- responses ---------------------------------------------------------------------------


class OrderAck(BaseModel):
    id: str
    number: int
    status: str
    version: int
    position: int


class OrderCommandAck(BaseModel):
    id: str
    version: int
    position: int


class LineOut(BaseModel):
    line_id: str
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: MoneyOut
    total: MoneyOut
    #: The pricing rule that set the unit price at placement (None: the catalog's price).
    price_rule_id: str | None = None
    price_rule_type: str | None = None
    #: What promotions took off the line (absent in a view built before discounts existed).
    discount: MoneyOut | None = None
    reserved: int
    cancelled: int
    shipped: int
    delivered: int
    returned: int


class NoteOut(BaseModel):
    note_id: str
    text: str
    kind: str
    visible_to_customer: bool
    author: str
    created_at: str
    updated_at: str


class AllocationOut(BaseModel):
    """Where the saga reserved a line's units: one row per (line, location)."""

    line_id: str
    sku: str
    location: str
    quantity: int
    reservation_id: str


class OrderOut(BaseModel):
    id: str
    number: int
    customer_id: str
    status: str
    channel: str
    channel_order_id: str | None
    currency: str
    priority: str
    lines: list[LineOut]
    subtotal: MoneyOut
    tax: MoneyOut
    shipping: MoneyOut
    discount: MoneyOut
    #: The promotions the order got at placement: ``{promotion_id, code, amount}``.
    promotions: list[dict[str, Any]] = []
    total: MoneyOut
    payment_status: str
    fulfillment_status: str
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any] | None
    gift: dict[str, Any] | None
    scheduled_delivery: str | None
    tags: list[str]
    notes: list[NoteOut]
    shipments: list[dict[str, Any]]
    allocations: list[AllocationOut] = []
    cancellation_reason: str | None = None
    refunds: list[dict[str, Any]] = []
    children: list[str] = []
    cancellation_request: dict[str, Any] | None = None
    #: The order's latest line edit: ``pending``, ``applied`` or ``rejected`` (with why).
    last_edit: dict[str, Any] | None = None
    parent_order_id: str | None
    split_reason: str | None
    version: int
    created_at: str
    updated_at: str


class OrderSummaryOut(BaseModel):
    id: str
    number: int
    customer_id: str
    status: str
    currency: str
    total: MoneyOut
    tags: list[str]
    channel: str
    created_at: datetime
    updated_at: datetime
    version: int


# ---- helpers (version_cursor serves order_notes and order_history too) -------------------

_ORDER_ACK = TypeAdapter(OrderAck)
_ORDER_OUT = TypeAdapter(OrderOut)


def as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def version_cursor(cursor: str | None) -> int | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 1 or not isinstance(key[0], int):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    return key[0]


def _summary_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        created_at, order_id = key
        return datetime.fromisoformat(created_at), UUID(order_id)
    except (TypeError, ValueError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None


def require_order(container: Any, order_id: UUID) -> None:
    """404 ``order_not_found`` unless the order view has seen the order (a route that calls
    this also waits for that view: ``read_model(order_detail.NAME)``)."""
    if not order_exists(container.pool, order_id):
        raise ApiError(404, "order_not_found", f"Order {order_id} does not exist.")


def _summary(row: dict[str, Any]) -> OrderSummaryOut:
    money = {"amount": str(row["total"]), "currency": row["currency"]}
    ids = {"id": str(row["id"]), "customer_id": str(row["customer_id"])}
    return OrderSummaryOut(**{**row, **ids, "total": money})


# ---- commands ----------------------------------------------------------------------------


async def place_order(
    body: PlaceOrder, request: HttpRequest, dispatch: DispatchDep, ctx: ContextDep
):
    """Place an order; a repeated (channel, channel_order_id) answers 200 with the existing one.
    While the saga or a view trails, the order waits at the door first (``api.admission``)."""
    await request.app.state.admission.enter()
    content, status = await run_in_threadpool(_place, dispatch, ctx, body)
    return Response(content, status_code=status, media_type="application/json")


def _place(dispatch: Dispatch, ctx: CommandContext, command: PlaceOrder) -> tuple[bytes, int]:
    """Send ``command``; the acknowledgement as JSON and its status (201, or 200 when the
    channel order exists already)."""
    result = dispatch(command, ctx)
    ack = OrderAck(  # from the result only: a replay under the key says what the first did
        id=str(result.stream_id),
        number=result.extra["number"],
        status=result.extra.get("status", "pending"),
        version=result.version,
        position=result.position,
    )
    return _ORDER_ACK.dump_json(ack), 200 if result.extra.get("existing") else 201


async def _place_order_fast(scope, receive, send) -> bool:  # noqa: ANN001 - ASGI
    """``place_order``'s fast path (``api.fast_path``): the same answer without FastAPI's
    request machinery: the body is the ``PlaceOrder`` command, sent through the dispatcher like
    the route's; a body that is not a valid one (or anything unusual) is left to the route's own
    validation, which refuses it in its own words."""
    raw = scope.get(BODY)  # read once, bounded and checked, by the gateway
    principal = scope.get("state", {}).get("principal")
    if raw is None or principal is None or scope.get("query_string") or not declared_json(scope):
        return False
    try:
        command = PlaceOrder.model_validate(orjson.loads(raw))  # as FastAPI validates a body
    except (orjson.JSONDecodeError, ValidationError):
        return False
    ctx = context_for(
        principal,
        f"POST {scope['path']}",
        raw,
        idempotency_key=header(scope, b"idempotency-key"),
        if_match=header(scope, b"if-match"),
        request_id=request_id_of(scope),
    )
    state = scope["app"].state
    await state.admission.enter()
    content, status = await run_in_threadpool(
        _place, state.container.dispatcher.handle, ctx, command
    )
    await send_json(send, content, status)
    return True


router.add_api_route(
    "/orders",
    place_order,
    methods=["POST"],
    status_code=201,
    response_model=OrderAck,
    responses={200: {"model": OrderAck, "description": "The existing order of this channel id"}},
    route_class_override=fast_route(_place_order_fast),
)


@router.patch("/orders/{order_id}", response_model=OrderCommandAck)
def modify_order(order_id: UUID, body: ModifyOrderBody, dispatch: DispatchDep, ctx: ContextDep):
    """One modification event per changed field; unchanged fields write nothing."""
    result = dispatch(ModifyOrder(order_id=order_id, **body.fields()), ctx)
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


# ---- queries -----------------------------------------------------------------------------


async def get_order_detail(
    order_id: UUID,
    request: HttpRequest,
    view: Literal["full", "customer"] = "full",
    min_position: MinPosition = None,
):
    """``?view=customer`` shows only the notes made visible to the customer."""
    # The hottest read: asyncio all the way (its own pool), no thread hand-off; only a
    # read-your-writes wait, which blocks, goes to a thread.
    body, version = await _order_detail(request.app.state, order_id, view, min_position)
    return Response(body, media_type="application/json", headers={"ETag": f'"{version}"'})


async def _order_detail(
    state: Any, order_id: UUID, view: str, min_position: int | None
) -> tuple[bytes, int]:
    """The order document as the API shows it (JSON) and its version; 404 if unknown."""
    if min_position is not None:
        await run_in_threadpool(wait_for_view, state.container, "order_detail", min_position)
    doc = await get_order_async(state.async_reads, order_id)
    if doc is None:
        raise ApiError(404, "order_not_found", f"Order {order_id} does not exist.")
    shown = _ORDER_OUT.validate_python(public_document(doc, customer_view=view == "customer"))
    return _ORDER_OUT.dump_json(shown), doc["version"]


_DETAIL_QUERY = frozenset({"view", "min_position"})


async def _order_detail_fast(scope, receive, send) -> bool:  # noqa: ANN001 - ASGI
    """``get_order_detail``'s fast path (``api.fast_path``): the same answer without FastAPI's
    request machinery; anything the route must refuse is left to it."""
    query = query_params(scope, _DETAIL_QUERY)
    view = "full" if query is None else query.get("view", "full")
    if query is None or view not in ("full", "customer"):
        return False
    min_position = query.get("min_position")
    if min_position is not None and not (min_position.isascii() and min_position.isdigit()):
        return False
    try:
        order_id = UUID(scope["path_params"]["order_id"])
    except (KeyError, TypeError, ValueError):
        return False
    body, version = await _order_detail(
        scope["app"].state,
        order_id,
        view,
        None if min_position is None else int(min_position),
    )
    await send_json(send, body, headers=[(b"etag", f'"{version}"'.encode())])
    return True


router.add_api_route(
    "/orders/{order_id}",
    get_order_detail,
    methods=["GET"],
    response_model=OrderOut,
    route_class_override=fast_route(_order_detail_fast),
)


@router.get(
    "/orders", response_model=Page[OrderSummaryOut], dependencies=[read_model("order_summaries")]
)
def list_order_summaries(
    container: ContainerDep,
    customer_id: UUID | None = None,
    status: Status | None = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    created_from: IsoDateTime | None = None,
    created_to: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    f = OrderFilter(customer_id, status, tag, as_utc(created_from), as_utc(created_to))
    rows, nxt = list_orders(container.pool, f, limit=limit, after=_summary_cursor(cursor))
    items = [_summary(r) for r in rows]
    next_cursor = encode_cursor([nxt[0].isoformat(), str(nxt[1])]) if nxt else None
    return Page(items=items, next_cursor=next_cursor)
