"""Authorization as ONE table (role × route) and the gateway that enforces it on every request.

``RULES`` maps (method, route template) to the roles allowed. Templates are written without
the ``/api/v1`` prefix and with every path parameter as ``{}``; ``*`` matches anything, the
first matching rule wins, and a route without a rule is denied to everyone (a test walks
every route and fails on a missing rule). A role may be qualified for customers:

- ``customer:own``  the path names an order (``/orders/{id}...``) whose ``customer_id`` must be
  the caller's ``sub``, else ``404`` as for an unknown order; reads get ``?view=customer``;
- ``customer:mine`` a list: ``?customer_id=`` is forced to the caller's ``sub``;
- ``customer:self`` a body whose ``customer_id`` must be the caller's ``sub`` (placing).

The gateway (a pure ASGI middleware) also gives every response an ``X-Request-Id`` and logs one
line per request (never a header or a body), limits requests per client address and per
principal (token buckets, ``429`` + ``Retry-After``), reads each body once, bounded (``413``
beyond ``MAX_BODY_BYTES``, whether or not a length was declared), refuses text no field may
hold (``422 invalid_text``, ``api.text_hygiene``: every query and path parameter, every key
and string of every body, once per request, fast lanes included), answers ``503
database_unavailable`` when the database cannot be reached (``api.errors``) and ``503
request_timeout`` when a request takes longer than configured.
The client address is the socket peer's (``X-Forwarded-For`` is not trusted); public routes
(health, readiness) are not limited. After its checks it hands a request to the route's fast
lane when the route has one (``api.fast_lanes``), else to the rest of the app."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode
from uuid import UUID, uuid4

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Match

from api import text_hygiene
from api.auth import Principal
from api.errors import ApiError, error_response, unavailable
from api.fast_lanes import Body, Lane, run_lane
from api.rate_limit import RateLimiter

log = logging.getLogger("ecom.access")

API_PREFIX = "/api/v1"
PUBLIC = "public"
DOCS = "docs"  # public when ECOM_OPEN_DOCS (default), else staff
METRICS = "metrics"  # public when ECOM_OPEN_METRICS, else admin, analyst, auditor
STAFF_DOCS = "admin merchant auditor analyst"
STAFF_METRICS = "admin analyst auditor"
MAX_BODY_BYTES = 1_000_000

# (method, template, who). Order matters: the first match wins.
RULES: list[tuple[str, str, str]] = [
    # operations
    ("GET", "/health", PUBLIC),
    ("GET", "/ready", PUBLIC),
    ("GET", "/metrics", METRICS),
    ("GET", "/openapi.json", DOCS),
    ("GET", "/docs", DOCS),
    ("GET", "/docs/oauth2-redirect", DOCS),
    ("GET", "/redoc", DOCS),
    ("GET", "/projections", "admin auditor analyst"),
    ("GET", "/projections/parked", "admin"),
    ("POST", "/projections/parked/{}/retry", "admin"),
    ("POST", "/projections/parked/{}/skip", "admin"),
    ("POST", "/projections/{}/rebuild", "admin"),
    # events, streams, audit
    ("GET", "/events", "admin auditor"),
    ("GET", "/streams/{}/events", "admin auditor"),
    ("GET", "/audit*", "admin auditor"),
    # time travel (auditors)
    ("GET", "/products/{}/state", "admin merchant analyst auditor"),
    ("GET", "/inventory/{}/state", "admin merchant analyst auditor"),
    ("GET", "/locations/{}/state", "admin merchant analyst auditor"),
    # catalog
    ("GET", "/products/{}/history", "admin merchant analyst auditor"),
    ("GET", "/products", "admin merchant analyst"),
    ("GET", "/products/*", "admin merchant analyst"),
    ("GET", "/categories*", "admin merchant analyst"),
    ("POST", "/products", "admin merchant"),
    ("POST", "/products/*", "admin merchant"),
    ("PATCH", "/products/*", "admin merchant"),
    ("PUT", "/products/*", "admin merchant"),
    ("DELETE", "/products/*", "admin merchant"),
    ("POST", "/categories*", "admin merchant"),
    ("PATCH", "/categories*", "admin merchant"),
    # locations and inventory
    ("GET", "/locations*", "admin merchant analyst"),
    ("POST", "/locations*", "admin merchant"),
    ("PATCH", "/locations*", "admin merchant"),
    ("GET", "/inventory/{}/movements", "admin merchant analyst auditor"),
    ("GET", "/inventory*", "admin merchant analyst"),
    ("POST", "/inventory/*", "admin merchant"),
    ("PUT", "/inventory/*", "admin merchant"),
    # orders: placing, reading
    ("POST", "/orders", "admin customer:self"),
    ("GET", "/orders", "admin merchant analyst customer:mine"),
    ("GET", "/orders/{}", "admin merchant analyst customer:own"),
    ("GET", "/orders/{}/children", "admin merchant analyst customer:own"),
    ("GET", "/orders/{}/timeline", "admin auditor analyst"),
    ("GET", "/orders/{}/modifications", "admin auditor analyst"),
    ("GET", "/orders/{}/state", "admin auditor"),
    # orders: customer requests
    ("POST", "/orders/{}/cancellation-requests", "admin customer:own"),
    ("GET", "/orders/{}/cancellation-requests", "admin analyst customer:own"),
    ("POST", "/orders/{}/returns", "admin customer:own"),
    ("GET", "/orders/{}/returns", "admin merchant analyst customer:own"),
    ("GET", "/orders/{}/payments", "admin analyst customer:own"),
    ("GET", "/orders/{}/shipments", "admin merchant analyst customer:own"),
    # fulfillment and shipping (merchant)
    ("POST", "/orders/{}/splits", "admin merchant"),
    ("GET", "/orders/{}/fulfillment-plans", "admin merchant analyst"),
    ("POST", "/orders/{}/fulfillment-plans*", "admin merchant"),
    ("POST", "/orders/{}/shipments", "admin merchant"),
    ("GET", "/fulfillment-plans*", "admin merchant analyst"),
    ("POST", "/fulfillment-plans/*", "admin merchant"),
    ("PATCH", "/fulfillment-plans/*", "admin merchant"),
    ("GET", "/shipments*", "admin merchant analyst"),
    ("POST", "/shipments/*", "admin merchant"),
    ("PATCH", "/shipments/*", "admin merchant"),
    ("GET", "/returns*", "admin merchant analyst"),
    ("POST", "/returns/*", "admin merchant"),
    # approvals, refunds, order changes (admin)
    ("GET", "/cancellation-requests*", "admin analyst"),
    ("POST", "/cancellation-requests/*", "admin"),
    ("GET", "/refunds*", "admin analyst"),
    ("POST", "/orders/{}/refunds", "admin"),
    ("GET", "/orders/{}/refunds", "admin analyst"),
    ("POST", "/orders/{}/*", "admin"),
    ("PATCH", "/orders/{}*", "admin"),
    ("PUT", "/orders/{}/*", "admin"),
    ("DELETE", "/orders/{}/*", "admin"),
    # analytics, customers, sagas, webhooks
    ("GET", "/analytics*", "admin analyst"),
    ("GET", "/sagas*", "admin auditor analyst"),
    ("GET", "/customers*", "admin analyst"),
    ("*", "/customers*", "admin"),
    ("*", "/webhooks*", "admin"),
]


@dataclass(frozen=True)
class Rule:
    method: str
    pattern: str
    access: dict[str, str]  # role -> "all" | "own" | "mine" | "self"
    public: bool = False


def parse_access(who: str) -> dict[str, str]:
    access = {}
    for item in who.split():
        role, _, mode = item.partition(":")
        access[role] = mode or "all"
    return access


def compile_rules(open_docs: bool = True, open_metrics: bool = False) -> list[Rule]:
    rules = []
    for method, pattern, who in RULES:
        if who == DOCS:
            who = PUBLIC if open_docs else STAFF_DOCS
        elif who == METRICS:
            who = PUBLIC if open_metrics else STAFF_METRICS
        public = who == PUBLIC
        rules.append(Rule(method, pattern, {} if public else parse_access(who), public))
    return rules


_PARAM = re.compile(r"\{[^}]*\}")


def normalize(path_template: str) -> str:
    """``/api/v1/orders/{order_id}`` → ``/orders/{}``."""
    if path_template.startswith(API_PREFIX + "/"):
        path_template = path_template[len(API_PREFIX) :]
    return _PARAM.sub("{}", path_template)


def rule_for(rules: list[Rule], method: str, path_template: str) -> Rule | None:
    template = normalize(path_template)
    for rule in rules:
        if rule.method in (method, "*") and fnmatch.fnmatchcase(template, rule.pattern):
            return rule
    return None


@lru_cache(maxsize=1024)
def order_param(path_template: str) -> str | None:
    """The name of the path parameter that follows ``/orders/``, if any."""
    m = re.search(r"/orders/\{([^}:]+)(?::[^}]*)?\}", path_template)
    return m.group(1) if m else None


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of the app as an object with ``path``, ``methods`` and ``matches(scope)``,
    included routers flattened (FastAPI ≥ 0.160 keeps them as nested route groups)."""
    flat: list[Any] = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            flat.extend(contexts())
        else:
            flat.append(route)
    return flat


class RouteIndex:
    """The routes that could match a path, in their order: those whose segment count and first
    (up to three) literal segments are the path's, plus any route with a parameter among its
    first segments (tried for every path). The gateway matches a request against a handful of
    routes instead of all of them."""

    HEAD = 3

    def __init__(self, routes: list[Any]):
        self.buckets: dict[tuple, list[tuple[int, Any]]] = {}
        self.anywhere: list[tuple[int, Any]] = []
        for i, route in enumerate(routes):
            segments = route.path.strip("/").split("/")
            head = tuple(segments[: self.HEAD])
            if any("{" in s for s in head):
                self.anywhere.append((i, route))
            else:
                self.buckets.setdefault((len(segments), head), []).append((i, route))

    def candidates(self, path: str) -> list[Any]:
        segments = path.strip("/").split("/")
        bucket = self.buckets.get((len(segments), tuple(segments[: self.HEAD])), [])
        if not self.anywhere:
            return [route for _, route in bucket]
        return [route for _, route in sorted(bucket + self.anywhere, key=lambda x: x[0])]


def route_methods(route: Any) -> set[str]:
    return set(getattr(route, "methods", None) or ()) - {"HEAD", "OPTIONS"}


# ---- the gateway ---------------------------------------------------------------------------

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _owner_of(store: Any, order_id: UUID) -> str | None:
    """The ``customer_id`` an order was placed for (its first event), or None if unknown."""
    first = store.load(order_id, up_to_version=1)
    if not first:
        return None
    customer = first[0].data.get("customer_id")
    return str(customer) if customer is not None else None


class Gateway:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: Any):
        self.app = app
        self._ready = False
        self._owners: dict[UUID, str] = {}
        self._rule_cache: dict[tuple[str, str], Rule | None] = {}

    def _setup(self, fastapi_app: FastAPI) -> None:
        settings = fastapi_app.state.container.settings
        self.rules = compile_rules(settings.open_docs, settings.open_metrics)
        self.per_principal = RateLimiter(settings.rate_per_principal, settings.burst_per_principal)
        self.per_client = RateLimiter(settings.rate_per_client, settings.burst_per_client)
        self.timeout_s = settings.request_timeout_s
        self.container = fastapi_app.state.container
        routes = flat_routes(fastapi_app)
        self.routes = RouteIndex(routes)
        self.lanes: dict[tuple[str, str], Lane] = getattr(fastapi_app.state, "fast_lanes", {})
        served = {(method, route.path) for route in routes for method in route_methods(route)}
        if not self.lanes.keys() <= served:
            raise RuntimeError(f"fast lanes for no route: {sorted(self.lanes.keys() - served)}")
        self._ready = True

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, self._checked_startup(scope, send))
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        rid = headers.get(b"x-request-id", b"").decode("latin-1")
        if not _REQUEST_ID.match(rid):
            rid = uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = [0]
        rid_header = (b"x-request-id", rid.encode())

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), rid_header]
                status[0] = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_with_id)
        finally:
            principal = state.get("principal")
            log.info(
                "%s %s %s %s %s %.1fms",
                rid,
                scope["method"],
                scope["path"],
                status[0],
                principal.id if principal else "-",
                (time.perf_counter() - started) * 1000,
            )

    def _checked_startup(self, scope, send):
        """Once the app has started (its container exists), load the security settings, so a
        bad key or a short secret stops the server at start, and a dev secret is made then."""

        async def checked(message):
            if message["type"] == "lifespan.startup.complete":
                from api.deps import auth_config

                self._setup(scope["app"])  # raising here unwinds the app's lifespan: the
                auth_config(scope["app"])  # container closes and startup fails with the error
            await send(message)

        return checked

    async def _handle(self, scope, receive, send):
        app: FastAPI = scope["app"]
        if not self._ready:
            self._setup(app)
        try:
            receive, route, path_params = await self._check(app, scope, receive)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
            return await response(scope, receive, send)
        except _Refused as exc:
            response = error_response(exc.status, exc.code, exc.message, None, exc.headers)
            return await response(scope, receive, send)
        except Exception as exc:  # the owner of an order is read from the store
            answer = unavailable(exc)
            if answer is None:
                raise
            return await answer(scope, receive, send)
        lane = self.lanes.get((scope["method"], route.path)) if route is not None else None
        if lane is None:
            return await self._with_timeout(scope, receive, send, self.app)

        async def lane_or_route(scope, receive, send):
            body = Body(receive)  # a lane may read the body and still decline
            if not await run_lane(lane, scope, body, send, path_params):
                await self.app(scope, body, send)

        await self._with_timeout(scope, receive, send, lane_or_route)

    async def _check(self, app: FastAPI, scope, receive):
        """Limits, authentication, the table and object-level checks; returns ``receive``
        and the route matched (None when none does) with its path parameters."""
        route, path_params = None, {}
        for candidate in self.routes.candidates(scope["path"]):
            match, child = candidate.matches(scope)
            if match == Match.FULL:
                route, path_params = candidate, child.get("path_params", {})
                break
        method = scope["method"]
        rule = None
        if route is not None:
            key = (method, route.path)
            if key not in self._rule_cache:
                self._rule_cache[key] = rule_for(self.rules, method, route.path)
            rule = self._rule_cache[key]
        if rule is not None and rule.public:
            return receive, route, path_params  # health and readiness are never limited
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.per_client.take(f"client:{client}")
        if wait:
            raise _Refused(
                429,
                "rate_limited",
                "Too many requests from this address.",
                {"Retry-After": RateLimiter.retry_after(wait)},
            )
        from api.deps import get_principal  # the one place that authenticates

        principal: Principal = get_principal(Request(scope))
        wait = self.per_principal.take(f"sub:{principal.role}:{principal.id}")
        if wait:
            raise _Refused(
                429,
                "rate_limited",
                "Too many requests for this principal.",
                {"Retry-After": RateLimiter.retry_after(wait)},
            )
        if route is None:
            return receive, None, {}  # 404 / 405 from the router, for an authenticated caller
        if rule is None:
            raise _Refused(403, "no_rule", "No authorization rule covers this endpoint.")
        mode = rule.access.get(principal.role)
        if mode is None:
            raise _Refused(
                403,
                "forbidden",
                f"The role '{principal.role}' may not {method} {normalize(route.path)}.",
            )
        # Text hygiene (``api.text_hygiene``): the URL's parameters here, the body once read.
        text_hygiene.check_query(scope.get("query_string", b""))
        text_hygiene.check_path(scope["path"], path_params)
        if mode == "own":
            await self._require_own_order(route.path, path_params, principal)
            if method == "GET":
                _set_query(scope, "view", "customer")
        elif mode == "mine":
            _set_query(scope, "customer_id", principal.id)
        if method in _BODY_METHODS:
            receive = await self._bounded_body(
                scope, receive, principal if mode == "self" else None
            )
        return receive, route, path_params

    async def _require_own_order(self, template: str, path_params: dict, principal: Principal):
        name = order_param(template)
        raw = path_params.get(name) if name else None
        try:
            order_id = raw if isinstance(raw, UUID) else UUID(str(raw))
        except ValueError:
            order_id = None
        owner = self._owners.get(order_id) if order_id else None
        if order_id is not None and owner is None:
            owner = await run_in_threadpool(_owner_of, self.container.store, order_id)
            if owner is not None:
                if len(self._owners) > 100_000:
                    self._owners.clear()
                self._owners[order_id] = owner
        if owner is None or owner != principal.id:
            shown = raw if order_id is None else order_id
            raise _Refused(404, "order_not_found", f"Order {shown} does not exist.")

    async def _bounded_body(self, scope, receive, placing_for: Principal | None):
        """Read the body up to the limit (413 beyond), check its text (``api.text_hygiene``)
        and, for placing, its ``customer_id``. Returns a ``receive`` that replays what was
        read."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Refused(
                    413,
                    "payload_too_large",
                    f"Request bodies are limited to {MAX_BODY_BYTES} bytes.",
                )
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if placing_for is not None:
            _check_customer(body, placing_for)
        text_hygiene.check_body(body)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _with_timeout(self, scope, receive, send, app):
        """Serve with ``app`` (the rest of the stack, or a fast lane); if no answer has started
        within the timeout, answer 503 at once and drop whatever the request produces later (a
        worker thread cannot be cancelled). A timer rather than a task per request: cheap when
        nothing times out."""
        if not self.timeout_s or self.timeout_s <= 0:
            return await app(scope, receive, send)
        loop = asyncio.get_running_loop()
        started, late = [False], []

        async def guarded_send(message):
            if late:
                return
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        async def answer_timeout():
            response = error_response(
                503,
                "request_timeout",
                f"The request took longer than {self.timeout_s:g} s.",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)

        def expire():
            if not started[0]:
                late.append(loop.create_task(answer_timeout()))

        timer = loop.call_later(self.timeout_s, expire)
        try:
            await app(scope, receive, guarded_send)
        except Exception as exc:
            # What the app's handlers did not answer, raised from an infrastructure failure
            # (say a RuntimeError from an OperationalError): 503 too, not the 500 that the
            # outermost middleware would answer (and log with a traceback).
            answer = None if started[0] or late else unavailable(exc)
            if answer is None:
                raise
            started[0] = True
            await answer(scope, receive, send)
        finally:
            timer.cancel()
            if late:
                await late[0]


def _check_customer(body: bytes, principal: Principal) -> None:
    """A customer places orders for themself only. Parsed as the route will parse it
    (``json.loads``); a body that is not a JSON object is the route's to refuse, but a
    ``customer_id`` that is present and not the caller's, in any form, is refused here."""
    try:
        doc = json.loads(body)
    except ValueError:
        return
    if not isinstance(doc, dict) or "customer_id" not in doc:
        return
    try:
        customer = str(UUID(doc["customer_id"]))
    except (TypeError, ValueError, AttributeError):
        customer = None
    if customer != principal.id:
        raise _Refused(
            403,
            "forbidden_customer",
            "A customer may place orders for their own customer id only.",
        )


def _set_query(scope, name: str, value: str) -> None:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    pairs = [(k, v) for k, v in pairs if k != name] + [(name, value)]
    scope["query_string"] = urlencode(pairs).encode("latin-1")


# ---- wiring ------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Add the gateway and describe bearer auth and its answers in the OpenAPI document."""
    app.add_middleware(Gateway)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)  # one line per request wherever the root logger writes
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        document_security(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_REFUSALS = {
    "401": "Missing or invalid bearer token",
    "403": "The caller's role may not use this endpoint",
    "429": "Rate limited; retry after Retry-After seconds",
}


def document_security(schema: dict) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    has_error_model = "ErrorResponse" in components.get("schemas", {})
    rules = compile_rules(open_docs=False, open_metrics=False)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            rule = rule_for(rules, method.upper(), path)
            if rule is not None and rule.public:
                continue
            operation["security"] = [{"bearerAuth": []}]
            for status, description in _REFUSALS.items():
                answer: dict[str, Any] = {"description": description}
                if has_error_model:
                    answer["content"] = {"application/json": {"schema": error_ref}}
                operation["responses"].setdefault(status, answer)
