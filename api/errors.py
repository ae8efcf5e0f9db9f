"""The error model: ``{"error": {"code", "message", "details"}}``, one status per error kind.

Infrastructure failures are ``503 database_unavailable`` with ``Retry-After``, never ``500``:
the database unreachable or restarting (``psycopg.OperationalError`` and ``InterfaceError``,
and the library's wrappers of them), a lock not granted in time (SQLSTATE 55P03, an
``OperationalError``), no pooled connection in time (``psycopg_pool.PoolTimeout``, one too).
``unavailable`` recognises them (the app's handlers and the gateway both ask it);
they are logged once per outage (``OutageLog``), not once per request."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import ORJSONResponse
from psycopg_pool import PoolTimeout, TooManyRequests
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from domain.errors import Conflict, DomainError, InvalidCommand, NotFound, VersionMismatch

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> ORJSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return ORJSONResponse(body, status_code=status, headers=headers)


#: What an unavailable database raises (``psycopg_pool.PoolTimeout`` and ``TooManyRequests``
#: and psycopg's ``LockNotAvailable``, ``AdminShutdown``, ``CannotConnectNow`` are all
#: ``psycopg.OperationalError``; the library re-raises them as its own).
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)
RETRY_AFTER_S = 1


class OutageLog:
    """One warning when the database starts failing, then at most one every ``every_s``
    while it keeps failing (with how many answers were 503 meanwhile): an outage under load
    is a few lines, not one per request."""

    def __init__(self, logger: logging.Logger, every_s: float = 30.0):
        self.logger, self.every_s = logger, every_s
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._suppressed = 0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every_s:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        self.logger.warning(
            "database unavailable, answering 503 (%s: %s)%s",
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            f"; {suppressed} more 503s since the last line" if suppressed else "",
        )


outages = OutageLog(log)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was explicitly raised from (``raise ... from``), a few deep."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 5:
        chain.append(current)
        current = current.__cause__
    return chain


def unavailable(exc: BaseException) -> ORJSONResponse | None:
    """The ``503`` answer for an infrastructure failure (logged through ``outages``), or
    None when ``exc`` is not one (nor raised from one)."""
    chain = _chain(exc)
    cause = next((e for e in chain if isinstance(e, INFRASTRUCTURE_ERRORS)), None)
    if cause is None:
        return None
    outages.failed(cause)
    if any(getattr(e, "sqlstate", None) == "55P03" for e in chain):
        reason, what = "lock_timeout", "A database lock was not granted in time"
    elif any(isinstance(e, (PoolTimeout, TooManyRequests)) for e in chain):
        reason, what = "pool_exhausted", "No database connection was free in time"
    else:
        reason, what = "unreachable", "The database cannot be reached just now"
    return error_response(
        503,
        "database_unavailable",
        f"{what}. Retry after {RETRY_AFTER_S} s, with the same Idempotency-Key for a "
        "command: it is then applied once, even if this attempt reached the database.",
        {"reason": reason},
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def status_for(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, VersionMismatch):
        return 412
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InvalidCommand):
        return 422
    return 422


def _clean_validation_errors(errors: list[dict]) -> list[dict]:
    cleaned = []
    for e in errors:
        cleaned.append(
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "type": e.get("type"),
                "message": e.get("msg"),
            }
        )
    return cleaned


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on the request's path: routes of one path live in
    several routers, and the router's own ``405`` names only the first route's methods."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "\x00"}  # no route's method: a path match is partial
    for group in request.app.router.routes:
        contexts = getattr(group, "effective_route_contexts", None)  # an included router
        for route in contexts() if contexts is not None else [group]:
            if route.matches(scope)[0] != Match.NONE:
                methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError):
        return error_response(status_for(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(
            e.get("type") in ("json_invalid", "model_attributes_type")
            and tuple(e.get("loc", ()))[:1] == ("body",)
            and len(e.get("loc", ())) <= 2
            for e in errors
        ):
            return error_response(
                400,
                "malformed_request",
                "The request body is not valid JSON of the expected shape.",
                _clean_validation_errors(errors),
            )
        return error_response(
            422, "validation_error", "The request is not valid.", _clean_validation_errors(errors)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return error_response(exc.status_code, code, str(exc.detail), None, headers)

    async def _infrastructure(_: Request, exc: Exception):
        answer = unavailable(exc)
        assert answer is not None
        return answer

    for kind in INFRASTRUCTURE_ERRORS:
        app.add_exception_handler(kind, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        answer = unavailable(exc)  # one raised from an infrastructure failure
        if answer is not None:
            return answer
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side.")
