"""The global event feed (auditors) and one stream's events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep
from api.errors import ApiError
from api.schemas import ERRORS

router = APIRouter(tags=["events"], responses=ERRORS)


class FeedEvent(BaseModel):
    position: int | None
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    occurred_at: str
    #: When the server wrote it (the database clock); null for events older than that record.
    recorded_at: str | None = None
    actor: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any]


class Feed(BaseModel):
    items: list[FeedEvent]
    next_cursor: str | None
    next_after: int | None
    head: int


@router.get("/events", response_model=Feed)
def read_feed(
    container: ContainerDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    if cursor is not None:
        if not cursor.isdigit():
            raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
        after = int(cursor)
    events = container.store.read_all(after=after, limit=limit)
    nxt = events[-1].position if len(events) == limit else None
    return Feed(
        items=[FeedEvent(**e.feed_item()) for e in events],
        next_cursor=str(nxt) if nxt is not None else None,
        next_after=nxt,
        head=container.store.head(),
    )


@router.get("/streams/{stream_id}/events", response_model=Feed)
def read_stream(stream_id: UUID, container: ContainerDep):
    events = container.store.load_with_positions(stream_id)
    if not events:
        raise ApiError(404, "stream_not_found", f"No stream {stream_id}.")
    return Feed(
        items=[FeedEvent(**e.feed_item()) for e in events],
        next_cursor=None,
        next_after=None,
        head=container.store.head(),
    )
