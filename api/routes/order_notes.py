"""Order notes, tags and timeline over HTTP: add, edit and delete notes; add and remove tags;
add a timeline entry and read the order's timeline (the ``order_timeline`` view)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field, JsonValue, StrictBool

from api.deps import ContainerDep, ContextDep, read_model
from api.pagination import encode_cursor
from api.routes.orders import OrderCommandAck, require_order, version_cursor
from api.schemas import ERRORS, Page, Request, json_safe
from commands import orders
from domain.order.values import NoteKind
from projections import order_detail
from projections.order_timeline import list_timeline

router = APIRouter(tags=["orders"], responses=ERRORS)


# ---- request bodies ----------------------------------------------------------------------


class AddNote(Request):
    text: Annotated[str, Field(max_length=5000)]
    visible_to_customer: StrictBool = False
    kind: NoteKind = "internal"


class EditNote(Request):
    text: Annotated[str, Field(max_length=5000)] | None = None
    visible_to_customer: StrictBool | None = None


class AddTag(Request):
    tag: Annotated[str, Field(max_length=100)]


class AddTimelineEntry(Request):
    type: Annotated[str, Field(max_length=64)]
    description: Annotated[str, Field(max_length=2000)]
    metadata: Annotated[dict[str, JsonValue] | None, AfterValidator(json_safe)] = None


# ---- responses ---------------------------------------------------------------------------


class NoteAck(BaseModel):
    note_id: str
    version: int
    position: int


class TimelineEntryOut(BaseModel):
    version: int
    position: int
    type: str
    description: str
    occurred_at: datetime
    actor: str
    correlation_id: str
    causation_id: str
    metadata: dict[str, Any]
    data: dict[str, Any]


# ---- commands ----------------------------------------------------------------------------


@router.post("/orders/{order_id}/notes", status_code=201, response_model=NoteAck)
def add_note(order_id: UUID, body: AddNote, container: ContainerDep, ctx: ContextDep):
    note_id = uuid4()
    result = orders.add_note(
        container.store,
        ctx,
        order_id,
        note_id=note_id,
        text=body.text,
        kind=body.kind,
        visible_to_customer=body.visible_to_customer,
    )
    return NoteAck(note_id=str(note_id), version=result.version, position=result.position)


@router.patch("/orders/{order_id}/notes/{note_id}", response_model=NoteAck)
def edit_note(
    order_id: UUID, note_id: UUID, body: EditNote, container: ContainerDep, ctx: ContextDep
):
    result = orders.edit_note(
        container.store,
        ctx,
        order_id,
        note_id=note_id,
        text=body.text,
        visible_to_customer=body.visible_to_customer,
    )
    return NoteAck(note_id=str(note_id), version=result.version, position=result.position)


@router.delete("/orders/{order_id}/notes/{note_id}", response_model=NoteAck)
def delete_note(order_id: UUID, note_id: UUID, container: ContainerDep, ctx: ContextDep):
    result = orders.delete_note(container.store, ctx, order_id, note_id=note_id)
    return NoteAck(note_id=str(note_id), version=result.version, position=result.position)


@router.post("/orders/{order_id}/tags", response_model=OrderCommandAck)
def add_tag(order_id: UUID, body: AddTag, container: ContainerDep, ctx: ContextDep):
    """Idempotent: a tag already present (in any case) writes nothing."""
    result = orders.add_tag(container.store, ctx, order_id, tag=body.tag)
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


@router.delete("/orders/{order_id}/tags/{tag}", response_model=OrderCommandAck)
def remove_tag(order_id: UUID, tag: str, container: ContainerDep, ctx: ContextDep):
    """Idempotent: removing an absent tag writes nothing."""
    result = orders.remove_tag(container.store, ctx, order_id, tag=tag)
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


@router.post("/orders/{order_id}/timeline", status_code=201, response_model=OrderCommandAck)
def add_timeline_entry(
    order_id: UUID, body: AddTimelineEntry, container: ContainerDep, ctx: ContextDep
):
    result = orders.add_timeline_entry(
        container.store,
        ctx,
        order_id,
        entry_type=body.type,
        description=body.description,
        metadata=body.metadata,
    )
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


# ---- queries -----------------------------------------------------------------------------


@router.get(
    "/orders/{order_id}/timeline",
    response_model=Page[TimelineEntryOut],
    dependencies=[read_model("order_timeline"), read_model(order_detail.NAME)],
)
def get_timeline(
    order_id: UUID,
    container: ContainerDep,
    order: Literal["asc", "desc"] = "asc",
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    cursor: str | None = None,
):
    require_order(container, order_id)
    rows = list_timeline(
        container.pool,
        order_id,
        descending=order == "desc",
        limit=limit,
        after_version=version_cursor(cursor),
    )
    nxt = encode_cursor([rows[-1]["version"]]) if len(rows) == limit else None
    return Page(items=[TimelineEntryOut(**r) for r in rows], next_cursor=nxt)
