"""``create_app``: the FastAPI application. Its lifespan is where the composition root runs;
routes get what they need through typed dependencies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from api import authorization, errors, openapi
from api.authorization import MAX_BODY_BYTES
from api.idempotent_replay import IdempotentReplay
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
from eventstore.database import make_async_pool

API_PREFIX = "/api/v1"
CATALOG = (products, product_variants, categories)
ORDERS = (orders, order_notes, order_history)
ORDER_FLOW = (order_changes, order_lines, fulfillment, returns)
AUDIT_AND_ANALYTICS = (audit, customers, analytics)


class BodySizeLimit:
    """Pure ASGI middleware: a request whose declared ``Content-Length`` is not a number or is
    over ``max_bytes`` is answered ``413 payload_too_large`` before the app reads it. (Bodies
    sent without a length are bounded by the gateway, ``api.authorization``.) Pure ASGI rather
    than ``BaseHTTPMiddleware``, which costs a task and a stream per request."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    if not value.isdigit() or int(value) > self.max_bytes:
                        response = errors.error_response(
                            413,
                            "payload_too_large",
                            f"Request bodies are limited to {self.max_bytes} bytes.",
                        )
                        return await response(scope, receive, send)
                    break
        return await self.app(scope, receive, send)


def create_app(container_factory: Callable[[], Container] = build) -> FastAPI:
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
    )
    errors.install(app)

    app.add_middleware(IdempotentReplay)  # inside the size limit: reads bounded bodies only
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    # The hottest routes first: FastAPI tries included routers in this order.
    for module in (operations, *ORDERS, *ORDER_FLOW, inventory, *CATALOG, locations, events):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in AUDIT_AND_ANALYTICS:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(operations.router, include_in_schema=False)  # /health at the root too
    # Hot routes' lean handlers, run by the gateway after its checks (``api.fast_lanes``).
    app.state.fast_lanes = {
        ("GET", f"{API_PREFIX}/orders/{{order_id}}"): orders.order_detail_lane,
        ("POST", f"{API_PREFIX}/orders"): orders.place_order_lane,
    }
    authorization.install(app)  # JWT, the role x route table, rate limits, X-Request-Id
    openapi.install(app)  # the document completed: header formats, text, error answers
    return app
