"""Order notes, tags and timeline over HTTP: add, edit and delete notes; add and remove tags;
add a timeline entry and read the order's timeline (the ``order_timeline`` view)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.pagination import encode_cursor
from api.routes.orders import OrderCommandAck, require_order, version_cursor
from api.schemas import ERRORS, Page, body_of
from domain.order.commands import (
    AddNote,
    AddTag,
    AddTimelineEntry,
    DeleteNote,
    EditNote,
    RemoveTag,
)
from projections import order_detail
from projections.order_timeline import list_timeline

router = APIRouter(tags=["orders"], responses=ERRORS)


# ---- request bodies: the commands minus the ids their paths carry ------------------------

AddNoteBody = body_of(AddNote, path=("order_id",))
EditNoteBody = body_of(EditNote, path=("order_id", "note_id"))
AddTagBody = body_of(AddTag, path=("order_id",))
AddTimelineEntryBody = body_of(AddTimelineEntry, path=("order_id",))


# ---- responses ---------------------------------------------------------------------------


class NoteAck(BaseModel):
    note_id: str
    version: int
    position: int


class TimelineEntryOut(BaseModel):
    position: int
    #: The stream the entry's event belongs to: the order's own, or one of its payments,
    #: shipments or returns (``stream_type``), and the event's stored type.
    stream_id: UUID
    stream_type: str
    event_type: str
    version: int
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
def add_note(order_id: UUID, body: AddNoteBody, dispatch: DispatchDep, ctx: ContextDep):
    result = dispatch(AddNote(order_id=order_id, **body.fields()), ctx)
    note_id = result.extra["note_id"]  # made by the handler, kept with an idempotency key
    return NoteAck(note_id=note_id, version=result.version, position=result.position)


@router.patch("/orders/{order_id}/notes/{note_id}", response_model=NoteAck)
def edit_note(
    order_id: UUID, note_id: UUID, body: EditNoteBody, dispatch: DispatchDep, ctx: ContextDep
):
    result = dispatch(EditNote(order_id=order_id, note_id=note_id, **body.fields()), ctx)
    return NoteAck(note_id=str(note_id), version=result.version, position=result.position)


@router.delete("/orders/{order_id}/notes/{note_id}", response_model=NoteAck)
def delete_note(order_id: UUID, note_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    result = dispatch(DeleteNote(order_id=order_id, note_id=note_id), ctx)
    return NoteAck(note_id=str(note_id), version=result.version, position=result.position)


@router.post("/orders/{order_id}/tags", response_model=OrderCommandAck)
def add_tag(order_id: UUID, body: AddTagBody, dispatch: DispatchDep, ctx: ContextDep):
    """Idempotent: a tag already present (in any case) writes nothing."""
    result = dispatch(AddTag(order_id=order_id, **body.fields()), ctx)
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


@router.delete("/orders/{order_id}/tags/{tag}", response_model=OrderCommandAck)
def remove_tag(order_id: UUID, tag: str, dispatch: DispatchDep, ctx: ContextDep):
    """Idempotent: removing an absent tag writes nothing."""
    result = dispatch(RemoveTag(order_id=order_id, tag=tag), ctx)
    return OrderCommandAck(id=str(order_id), version=result.version, position=result.position)


@router.post("/orders/{order_id}/timeline", status_code=201, response_model=OrderCommandAck)
def add_timeline_entry(
    order_id: UUID, body: AddTimelineEntryBody, dispatch: DispatchDep, ctx: ContextDep
):
    result = dispatch(AddTimelineEntry(order_id=order_id, **body.fields()), ctx)
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
        after_position=version_cursor(cursor),  # one integer: a position here
    )
    nxt = encode_cursor([rows[-1]["position"]]) if len(rows) == limit else None
    return Page(items=[TimelineEntryOut(**r) for r in rows], next_cursor=nxt)
