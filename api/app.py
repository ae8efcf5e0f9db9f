"""``create_app``: the FastAPI application. Its lifespan is where the composition root runs;
routes get what they need through typed dependencies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import ORJSONResponse

from api import authorization, errors
from api.routes import (
    analytics,
    audit,
    categories,
    customers,
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
from ecom.bootstrap import Container, build

API_PREFIX = "/api/v1"
CATALOG = (products, product_variants, categories)
ORDERS = (orders, order_notes, order_history)
ORDER_FLOW = (order_changes, order_lines, fulfillment, returns)
AUDIT_AND_ANALYTICS = (audit, customers, analytics)
MAX_BODY_BYTES = 1_000_000


def create_app(container_factory: Callable[[], Container] = build) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        container = container_factory()
        container.migrate()
        container.start_background()
        app.state.container = container
        try:
            yield
        finally:
            container.close()

    app = FastAPI(
        title="ecom",
        version="1",
        description="An event-sourced commerce backend.",
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
    )
    errors.install(app)

    @app.middleware("http")
    async def limit_body_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return errors.error_response(
                413, "payload_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
            )
        return await call_next(request)

    for module in (operations, events, locations, *CATALOG, inventory, *ORDERS, *ORDER_FLOW):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in AUDIT_AND_ANALYTICS:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(operations.router, include_in_schema=False)  # /health at the root too
    authorization.install(app)  # JWT, the role x route table, rate limits, X-Request-Id
    return app
