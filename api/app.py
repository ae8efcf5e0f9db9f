"""``create_app``: the FastAPI application. Its lifespan runs the container factory it is given
(the composition root, ``composition.bootstrap.build``, passed in by
``composition.asgi``: ``api`` never imports ``composition``); routes get what they need
through typed dependencies. In front of the app, one middleware: the gateway (``api.gateway``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import ORJSONResponse
from psycopg_pool import AsyncConnectionPool

from api import docs_pages, errors, gateway, heap, openapi
from api.admission import Admission, max_lag_for
from api.console import pages as console
from api.idempotent_replay import IdempotentReplay
from api.order_backlog import PLACED_TOPIC, OrderBacklog
from api.ownership import OWNED
from api.routes import (
    analytics,
    audit,
    audit_export,
    categories,
    events,
    fulfillment,
    inventory,
    locations,
    operations,
    order_changes,
    order_history,
    order_lines,
    order_notes,
    orders,
    product_variants,
    products,
    returns,
)
from eventstore.database import make_async_pool

API_PREFIX = "/api/v1"
CATALOG = (products, product_variants, categories)
ORDERS = (orders, order_notes, order_history)
ORDER_FLOW = (order_changes, order_lines, fulfillment, returns)
AUDIT_AND_ANALYTICS = (audit, audit_export, analytics)


def create_app(
    container_factory: Callable[[], Any],
    *,
    routers: Sequence[APIRouter] = (),
    rules: Sequence[tuple[str, str, str]] = (),
    owned: Mapping[str, str] | None = None,
) -> FastAPI:
    """The app over the container ``container_factory`` builds at start (``store``, ``pool``,
    ``runner``, ``settings``, ...: see ``composition.bootstrap.Container``).

    ``routers``, ``rules`` and ``owned`` are what added capabilities bring
    (``composition/capabilities.py``): more routes under ``/api/v1``, their rows of the
    authorization table (tried before ``api.authorization.RULES``), and the resources a
    ``customer:own`` rule may name besides orders (path segment → not-found code)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        container = container_factory()
        container.migrate()
        container.start_background()
        app.state.container = container
        reads = make_async_pool(container.url, max_size=container.settings.pool_size)
        try:
            await reads.open(wait=True, timeout=10)
            app.state.async_reads = reads
            app.state.admission = _admission(reads, container)
            heap.settle()  # the collector's passes otherwise stall every request in flight
            yield
        finally:
            await reads.close()
            container.close()

    app = FastAPI(
        title="ecom",
        version="1",
        description="An event-sourced commerce backend.",
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        # FastAPI's OpenTelemetry hooks look the global providers up on every request (5 % of
        # a request's CPU here); we do not use them.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # served from local files instead (api/docs_pages.py)
        redoc_url=None,
    )
    errors.install(app)

    app.add_middleware(IdempotentReplay)  # inside the gateway: the body it read, bounded
    # The hottest routes first: FastAPI tries included routers in this order.
    for module in (operations, *ORDERS, *ORDER_FLOW, inventory, *CATALOG, locations, events):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in AUDIT_AND_ANALYTICS:
        app.include_router(module.router, prefix=API_PREFIX)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.state.extra_rules = tuple(rules)  # read by the gateway (``api.gateway``)
    app.state.owned = {**OWNED, **(owned or {})}
    app.include_router(operations.router, include_in_schema=False)  # /health at the root too
    docs_pages.install(app)  # /docs, /redoc and their files, from this app (no CDN)
    console.install(app)  # /console: page shells and files (public); data through the API
    gateway.install(app)  # limits, JWT, the role x route table, the body, metrics
    openapi.install(app)  # the document completed: header formats, text, error answers
    return app


def _admission(reads: AsyncConnectionPool, container: Any) -> Admission:
    """The door of ``POST /orders`` (``api.admission``): the saga and the views that follow
    every order (``api.order_backlog``), read on the app's own asyncio pool."""
    settings = container.settings
    views = [n for n, p in container.runner.projections.items() if PLACED_TOPIC in p.topics]
    backlog = OrderBacklog(views, settings.admission_stall_s)

    async def backlog_s() -> float:
        async with reads.connection() as conn:
            return await backlog.seconds(conn)

    return Admission(
        backlog_s, max_lag_s=max_lag_for(settings), max_wait_s=settings.admission_wait_s
    )
