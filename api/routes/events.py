"""The global event feed (auditors), filtered, and one stream's events, a page at a time.

The feed's filters (``type``, ``stream_type``, ``stream_id``, ``correlation_id``, ``actor``,
``from``/``to`` on the business time) are validated: an unknown parameter is ``422
unknown_parameter``, an unknown event or stream type ``422 unknown_event_type`` /
``unknown_stream_type``, a time without an offset ``422 validation_error``. The SQL is
``eventstore.feed_query``'s."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.deps import ContainerDep
from api.errors import ApiError
from api.schemas import ERRORS, IsoDateTime
from eventstore.feed_query import EventFilter, read_matching, read_stream_page

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
    #: The position (feed) or version (stream) to pass as ``after`` for the next page.
    next_after: int | None
    head: int


FEED_PARAMS = frozenset(
    {"after", "limit", "cursor", "type", "stream_type", "stream_id", "correlation_id", "actor"}
    | {"from", "to"}
)
STREAM_PARAMS = frozenset({"after", "limit", "cursor"})


def refuse_unknown_parameters(request: Request, known: frozenset[str]) -> None:
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ApiError(
            422,
            "unknown_parameter",
            f"Unknown query parameter {unknown[0]!r}; this endpoint takes "
            f"{', '.join(sorted(known))}.",
            {"parameters": unknown},
        )


def _values(given: list[str] | None) -> list[str]:
    """Repeated (``type=a&type=b``) or comma-separated (``type=a,b``) values."""
    return [v.strip() for item in given or () for v in item.split(",") if v.strip()]


#: The largest position or version (a PostgreSQL bigint).
MAX_POSITION = 2**63 - 1


def _cursor_or(after: int, cursor: str | None) -> int:
    if cursor is None:
        return after
    if not cursor.isdigit() or int(cursor) > MAX_POSITION:
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    return int(cursor)


def _known(given: list[str], known: set[str], code: str, what: str) -> list[str]:
    unknown = sorted(set(given) - known)
    if unknown:
        raise ApiError(
            422, code, f"{unknown[0]!r} is not a {what} of this log.", {"unknown": unknown}
        )
    return given


@router.get("/events", response_model=Feed)
def read_feed(
    request: Request,
    container: ContainerDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    type: Annotated[
        list[str] | None,
        Query(
            description="Stored event type (`order.OrderPlaced`); repeat it or separate by commas."
        ),
    ] = None,
    stream_type: Annotated[
        list[str] | None,
        Query(description="Stream type (`order`, `payment`, …); repeat it or separate by commas."),
    ] = None,
    stream_id: UUID | None = None,
    correlation_id: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    occurred_from: Annotated[
        IsoDateTime | None,
        Query(alias="from", description="Business time (`occurred_at`) from, inclusive."),
    ] = None,
    occurred_to: Annotated[
        IsoDateTime | None,
        Query(alias="to", description="Business time (`occurred_at`) until, exclusive."),
    ] = None,
):
    """The events matching every filter given, in position order; ``next_cursor`` (or
    ``after=next_after``) walks the filtered feed to its end."""
    refuse_unknown_parameters(request, FEED_PARAMS)
    registered = set(container.store.mapper.registry.names())
    flt = EventFilter(
        types=_known(_values(type), registered, "unknown_event_type", "event type"),
        stream_types=_known(
            _values(stream_type),
            {name.partition(".")[0] for name in registered},
            "unknown_stream_type",
            "stream type",
        ),
        stream_id=stream_id,
        correlation_id=correlation_id,
        actor=actor,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    events = read_matching(container.store, flt, after=_cursor_or(after, cursor), limit=limit)
    nxt = events[-1].position if len(events) == limit else None
    return Feed(
        items=[FeedEvent(**e.feed_item()) for e in events],
        next_cursor=str(nxt) if nxt is not None else None,
        next_after=nxt,
        head=container.store.head(),  # read after the page: at or past every item in it
    )


@router.get("/streams/{stream_id}/events", response_model=Feed)
def read_stream(
    request: Request,
    stream_id: UUID,
    container: ContainerDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="A version: events after it.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    cursor: str | None = None,
):
    """One stream's events by version, ``limit`` at a time (``next_cursor`` or
    ``after=next_after`` for the next page)."""
    refuse_unknown_parameters(request, STREAM_PARAMS)
    after_version = _cursor_or(after, cursor)
    events = read_stream_page(container.store, stream_id, after_version=after_version, limit=limit)
    if not events and (after_version == 0 or container.store.stream_version(stream_id) == 0):
        raise ApiError(404, "stream_not_found", f"No stream {stream_id}.")
    nxt = events[-1].version if len(events) == limit else None
    return Feed(
        items=[FeedEvent(**e.feed_item()) for e in events],
        next_cursor=str(nxt) if nxt is not None else None,
        next_after=nxt,
        head=container.store.head(),
    )
