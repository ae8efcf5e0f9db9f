"""The gateway: the one pure ASGI middleware in front of the app, composing the edge's parts.

For every request, in this order:

1. the request's id (``api.request_ids``: the caller's ``X-Correlation-Id``, else its
   ``X-Request-Id`` if well formed, else a new one; the correlation id of every event the
   request writes) as ``X-Request-Id`` on the response, one access-log line (never a header
   or a body) and the request's metrics (``api.metrics``);
2. the route it is for and that route's rule (``api.routing``, ``api.authorization``); public
   routes (health, readiness) skip 3-5;
3. rate limits per client address, then per principal (``api.rate_limit``: ``429`` +
   ``Retry-After``; the client address is the socket peer's, ``X-Forwarded-For`` is not
   trusted);
4. the bearer token (``api.authentication``: ``401``), the rule (``403``), ownership
   (``api.ownership``: a customer's own orders);
5. a malformed ``X-Correlation-Id`` (``422``), text no field may hold in the query and path
   (``api.text_hygiene``: ``422 invalid_text``);
6. the body: its declared length checked, then read once, bounded (``api.request_limits``:
   ``413``), its text checked, and handed on: ``scope["ecom.body"]`` for the middlewares
   inside (``api.idempotent_replay``) and a replaying ``receive`` for the route;
7. the app, under the request timeout (``503 request_timeout``); an infrastructure failure
   left unanswered is ``503 database_unavailable`` (``api.errors``).

The gateway refuses or hands over; it never answers for a route. The route it matched is the
one the app's router runs (``api.routing``: one routing pass per request); a hot route's fast
path is that route's own handler (``api.fast_path``)."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI

from api import request_ids, text_hygiene
from api.authentication import Principal, authenticate
from api.authorization import compile_rules, normalize
from api.errors import ApiError, error_response, unavailable
from api.metrics import UNMATCHED, ApiMetrics
from api.openapi_security import document_security
from api.ownership import OrderOwners, require_self
from api.rate_limit import RateLimiter
from api.request_limits import BODY, read_body, refuse_declared_length, replaying, with_timeout
from api.routing import Routes, use_the_match

log = logging.getLogger("ecom.access")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Routes that check the whole log by design, with the time they may take instead of the
#: request time limit (``/audit/verify`` recomputes every chain link, leaf and tree node:
#: about a minute per million events on two cores).
WALKS_THE_LOG: dict[str, float] = {"/api/v1/audit/verify": 900.0}


class Gateway:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: Any):
        self.app = app
        self._ready = False

    def _setup(self, fastapi_app: FastAPI) -> None:
        from api.deps import auth_config  # the app's one verification config

        container = fastapi_app.state.container
        settings = container.settings
        self.auth = auth_config(fastapi_app)
        extra = getattr(fastapi_app.state, "extra_rules", ())  # added capabilities' rows
        rules = compile_rules(settings.open_docs, settings.open_metrics, extra)
        self.routes = Routes(fastapi_app, rules)
        use_the_match(fastapi_app.router)  # the router takes the route matched here
        self.per_principal = RateLimiter(settings.rate_per_principal, settings.burst_per_principal)
        self.per_client = RateLimiter(settings.rate_per_client, settings.burst_per_client)
        self.timeout_s = settings.request_timeout_s
        owned = getattr(fastapi_app.state, "owned", None)
        self.owners = OrderOwners(getattr(container, "store", None), owned)
        self.metrics = ApiMetrics(container, getattr(fastapi_app.state, "admission", None))
        fastapi_app.state.metrics = self.metrics
        self._ready = True

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, self._checked_startup(scope, send))
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = request_ids.request_id(scope.get("headers") or ())
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

        route: list[str] = [UNMATCHED]
        try:
            await self._handle(scope, receive, send_with_id, route)
        finally:
            elapsed = time.perf_counter() - started
            principal = state.get("principal")
            log.info(
                "%s %s %s %s %s %.1fms",
                rid,
                scope["method"],
                scope["path"],
                status[0],
                principal.id if principal else "-",
                elapsed * 1000,
            )
            if self._ready:
                self.metrics.observe(scope["method"], route[0], status[0], elapsed)

    def _checked_startup(self, scope, send):
        """Once the app has started (its container exists), load the security settings, so a
        bad key or a short secret stops the server at start, and a dev secret is made then."""

        async def checked(message):
            if message["type"] == "lifespan.startup.complete":
                self._setup(scope["app"])  # raising here unwinds the app's lifespan: the
                # container closes and startup fails with the error
            await send(message)

        return checked

    async def _handle(self, scope, receive, send, route: list[str]):
        if not self._ready:
            self._setup(scope["app"])
        try:
            receive = await self._check(scope, receive, route)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
            return await response(scope, receive, send)
        except Exception as exc:  # the owner of an order is read from the store
            answer = unavailable(exc)
            if answer is None:
                raise
            return await answer(scope, receive, send)
        timeout_s = WALKS_THE_LOG.get(route[0], self.timeout_s)
        await with_timeout(timeout_s, scope, receive, send, self.app)

    async def _check(self, scope, receive, route_label: list[str]):
        """Limits, authentication, the table, object-level checks, text and the body; returns
        the ``receive`` the app is to read the body from."""
        route, path_params = self.routes.match(scope)
        method = scope["method"]
        rule = None
        if route is not None:
            route_label[0] = route.path
            rule = self.routes.rule(method, route)
        if rule is not None and rule.public:
            refuse_declared_length(scope)
            return receive  # health and readiness are never limited
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.per_client.take(f"client:{client}")
        if wait:
            raise _rate_limited("Too many requests from this address.", wait)
        principal = self._authenticate(scope)
        wait = self.per_principal.take(f"sub:{principal.role}:{principal.id}")
        if wait:
            raise _rate_limited("Too many requests for this principal.", wait)
        if route is None:
            refuse_declared_length(scope)
            return receive  # 404 / 405 from the router, for an authenticated caller
        if rule is None:
            raise ApiError(403, "no_rule", "No authorization rule covers this endpoint.")
        mode = rule.access.get(principal.role)
        if mode is None:
            raise ApiError(
                403,
                "forbidden",
                f"The role '{principal.role}' may not {method} {normalize(route.path)}.",
            )
        request_ids.check_correlation(scope["headers"])
        text_hygiene.check_query(scope.get("query_string", b""))
        text_hygiene.check_path(scope["path"], path_params)
        if mode == "own":
            await self.owners.require_own(route.path, path_params, principal)
            if method == "GET":
                _set_query(scope, "view", "customer")
        elif mode == "mine":
            _set_query(scope, "customer_id", principal.id)
        refuse_declared_length(scope)
        if method not in _BODY_METHODS:
            return receive
        body = await read_body(receive)
        if mode == "self":
            require_self(body, principal)
        text_hygiene.check_body(body)
        scope[BODY] = body
        return replaying(body, receive)

    def _authenticate(self, scope) -> Principal:
        """The caller (``401`` without a valid token), left in ``scope["state"]`` for the app
        (``api.deps.get_principal``)."""
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        principal = authenticate(self.auth, authorization)
        scope["state"]["principal"] = principal
        return principal


def _rate_limited(message: str, wait: float) -> ApiError:
    return ApiError(
        429, "rate_limited", message, headers={"Retry-After": RateLimiter.retry_after(wait)}
    )


def _set_query(scope, name: str, value: str) -> None:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    pairs = [(k, v) for k, v in pairs if k != name] + [(name, value)]
    scope["query_string"] = urlencode(pairs).encode("latin-1")


def install(app: FastAPI) -> None:
    """Put the gateway in front of ``app`` and describe bearer auth and its answers in the
    OpenAPI document."""
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
