"""Time travel for every aggregate type: the state of a stream as it was at a version or at an
instant, folded from its events (the events themselves, never a read model)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from domain.aggregate import AggregateType
from domain.errors import NotFound
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

S = TypeVar("S")


def events_until(
    events: list[RecordedEvent], *, version: int | None = None, as_of: datetime | None = None
) -> list[RecordedEvent]:
    """The prefix of a stream's events up to ``version`` and up to instant ``as_of``: it stops
    at the first event after either, so an instant between two events gives the state after
    the earlier one (within a stream ``occurred_at`` never decreases; an older stream written
    before that held still answers with a state it really had)."""
    out = []
    for e in events:
        if (version is not None and e.version > version) or (
            as_of is not None and e.meta.occurred_at > as_of
        ):
            break
        out.append(e)
    return out


def require_version(events: list[RecordedEvent], version: int | None, what: str) -> None:
    """Refuse (404 ``version_not_found``) a ``version`` the stream has not reached: answering
    its last state under a version it never had would pass a guess for a record."""
    last = events[-1].version if events else 0
    if version is not None and version > last:
        raise NotFound(
            f"{what} has no version {version}; its last is {last}.",
            code="version_not_found",
            details={"version": version, "last_version": last},
        )


def state_at(
    store: EventStore,
    aggregate: AggregateType[S],
    stream_id: UUID,
    *,
    kind: str,
    version: int | None = None,
    as_of: datetime | None = None,
) -> tuple[S, int]:
    """(state, version then) of ``stream_id``; NotFound when the stream does not exist, has no
    such version or had no event yet at that point."""
    events = store.load(stream_id, up_to_version=version)
    if not events or events[0].stream_type != aggregate.stream_type:
        raise NotFound(f"No {kind} {stream_id}.", code=f"{kind}_not_found")
    require_version(events, version, f"The {kind} {stream_id}")
    events = events_until(events, as_of=as_of)
    if not events:
        raise NotFound(
            f"The {kind} {stream_id} did not exist yet at that point.",
            code=f"{kind}_not_yet_created",
        )
    return aggregate.fold(e.to_domain() for e in events), events[-1].version


def jsonable(value: Any) -> Any:
    """Decision state as JSON-ready data: dataclasses, pydantic values, money, ids and times."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):  # a persistent map: in key order (its own is its hashes')
        pairs = sorted(((str(jsonable(k)), v) for k, v in value.items()), key=lambda kv: kv[0])
        return {k: jsonable(v) for k, v in pairs}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
