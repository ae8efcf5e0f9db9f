"""Health, readiness, metrics, the read models' status and rebuild, and the parking lot of the
log's followers (events parked after their retries: list, retry, skip; admins only)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.authentication import Principal
from api.deps import ContainerDep, get_principal
from api.errors import ApiError
from api.schemas import ERRORS

router = APIRouter(tags=["operations"], responses=ERRORS)
READY_LAG_BOUND = 10_000


class ProjectionOut(BaseModel):
    name: str
    position: int
    lag: int
    status: str
    parked: int = 0  # events parked for this view (``GET /projections/parked``)


class ParkedEventOut(BaseModel):
    id: int
    follower: str
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    error: str
    attempts: int
    behind: int | None  # id of the first parked event of the stream it waits behind
    retry_requested: bool
    parked_at: datetime


class ParkedList(BaseModel):
    items: list[ParkedEventOut]


class RetryOut(BaseModel):
    follower: str
    stream_id: str
    applied: int  # events handled and cleared
    still_parked: int
    requested: bool  # the follower runs in another process (the relay) and will do it


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    max_lag: int


@router.get("/health", response_model=Health)
def health():
    return Health(status="ok")


@router.get("/ready", response_model=Readiness)
def ready(container: ContainerDep):
    try:
        statuses = container.runner.status()
    except Exception:
        raise ApiError(
            503,
            "database_unavailable",
            "The database cannot be reached.",
            headers={"Retry-After": "1"},
        ) from None
    lag = max((s.lag for s in statuses), default=0)
    if lag > READY_LAG_BOUND:
        raise ApiError(
            503,
            "projections_lagging",
            f"Read models lag by {lag} events.",
            headers={"Retry-After": "1"},
        )
    chain_lag = container.chainer.status().lag if container.chainer is not None else 0
    if chain_lag > READY_LAG_BOUND:  # the tracked audit chainer must keep up too
        raise ApiError(
            503,
            "audit_chain_lagging",
            f"The audit hash chain lags by {chain_lag} events.",
            headers={"Retry-After": "1"},
        )
    return Readiness(status="ready", database=True, max_lag=lag)


@router.get("/projections", response_model=list[ProjectionOut])
def projections(container: ContainerDep):
    out = [
        ProjectionOut(name=s.name, position=s.position, lag=s.lag, status=s.status, parked=s.parked)
        for s in container.runner.status()
    ]
    if container.settings.kafka_bootstrap:  # scale-out: relay lag and consumer lag too
        from scaleout.status import kafka_rows

        out += [ProjectionOut(**row) for row in kafka_rows(container)]
    return out


@router.get("/projections/parked", response_model=ParkedList)
def parked_events(
    container: ContainerDep,
    follower: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_.:-]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
):
    rows = container.parking.list(follower, limit=limit)
    return ParkedList(items=[ParkedEventOut(**r.as_json()) for r in rows])


def _not_found(parked_id: int) -> ApiError:
    return ApiError(404, "parked_event_not_found", f"No parked event with id {parked_id}.")


@router.post("/projections/parked/{parked_id}/retry", response_model=RetryOut)
def retry_parked(parked_id: int, container: ContainerDep):
    outcome = container.parking.retry(parked_id)
    if outcome is None:
        raise _not_found(parked_id)
    return RetryOut(**outcome.as_json())


@router.post("/projections/parked/{parked_id}/skip", response_model=RetryOut)
def skip_parked(
    parked_id: int,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(get_principal)],
):
    outcome = container.parking.skip(parked_id, actor=f"{principal.role}:{principal.id}")
    if outcome is None:
        raise _not_found(parked_id)
    return RetryOut(**outcome.as_json())


@router.post("/projections/{name}/rebuild", status_code=202, response_model=ProjectionOut)
def rebuild(name: str, container: ContainerDep):
    if name not in container.runner.projections:
        raise ApiError(404, "projection_not_found", f"No read model named '{name}'.")
    threading.Thread(target=container.runner.rebuild, args=(name,), daemon=True).start()
    return ProjectionOut(name=name, position=0, lag=0, status="rebuilding")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request):
    """Request times per route, responses per status class, the event store's head and every
    view's position and lag, Kafka lag (``api.metrics``; per process)."""
    metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=metrics.content_type)
