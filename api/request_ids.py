"""A request's id: one per request, answered as ``X-Request-Id`` and stored as the correlation
and causation id of every event the request writes (``commands.context.CommandContext.new``;
the process managers keep it for every step that follows, ``commands.process_manager``).

It is the caller's ``X-Correlation-ID`` when one is sent (``CORRELATION_ID_PATTERN``: 1-128
visible ASCII characters; anything else is refused, ``check_correlation``), else the caller's
``X-Request-Id`` when well formed (``REQUEST_ID_PATTERN``), else a new one. The gateway
(``api.gateway``) makes it before anything else, so that even a refusal carries it, and leaves
it in ``scope["state"]["request_id"]``, where a command's context reads it (``api.deps``)."""

from __future__ import annotations

import re
from uuid import uuid4

from api import text_hygiene
from api.errors import ApiError

#: ``X-Correlation-ID``: 1-128 visible ASCII characters (no space, no control character).
CORRELATION_ID_PATTERN = r"^[\x21-\x7e]{1,128}$"
#: A caller's ``X-Request-Id`` that is kept (any other is replaced by a new id).
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
_CORRELATION = re.compile(CORRELATION_ID_PATTERN)
_REQUEST = re.compile(REQUEST_ID_PATTERN)
_CORRELATION_HEADER = b"x-correlation-id"
_REQUEST_HEADER = b"x-request-id"
_FIELD = "X-Correlation-Id"  # as the documentation spells it (header names are case-blind)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's id from its (ASGI) headers: a valid ``X-Correlation-ID``, else a valid
    ``X-Request-Id``, else a new id."""
    correlation = _header(headers, _CORRELATION_HEADER)
    if correlation is not None and _CORRELATION.match(correlation):
        return correlation
    rid = _header(headers, _REQUEST_HEADER)
    if rid is not None and _REQUEST.match(rid):
        return rid
    return uuid4().hex


def check_correlation(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse an ``X-Correlation-ID`` that cannot be the request's id: a control character is
    ``422 invalid_text`` (as in any text, ``api.text_hygiene``), any other bad value ``422
    invalid_correlation_id``."""
    value = _header(headers, _CORRELATION_HEADER)
    if value is None or _CORRELATION.match(value):
        return
    text_hygiene.check_header(_FIELD, value)
    raise ApiError(
        422,
        "invalid_correlation_id",
        f"{_FIELD} must be 1-128 visible ASCII characters (no spaces), "
        f"not {len(value)} characters like {value[:32]!r}.",
        [
            {
                "loc": ["header", _FIELD],
                "field": _FIELD,
                "type": "invalid_correlation_id",
                "message": "1-128 visible ASCII characters",
            }
        ],
    )
