"""Health, readiness, metrics and the read models' status and rebuild."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from api.deps import ContainerDep
from api.errors import ApiError
from api.schemas import ERRORS

router = APIRouter(tags=["operations"], responses=ERRORS)
READY_LAG_BOUND = 10_000


class ProjectionOut(BaseModel):
    name: str
    position: int
    lag: int
    status: str


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
        ProjectionOut(name=s.name, position=s.position, lag=s.lag, status=s.status)
        for s in container.runner.status()
    ]
    if container.settings.kafka_bootstrap:  # scale-out: relay lag and consumer lag too
        from projections.kafka_status import kafka_rows

        out += [ProjectionOut(**row) for row in kafka_rows(container)]
    return out


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
