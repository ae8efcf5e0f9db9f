"""The error model: ``{"error": {"code", "message", "details"}}``, one status per error kind."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import ORJSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    async def _http(_: Request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        return error_response(
            exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side.")
