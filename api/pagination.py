"""Opaque cursors: a base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from api.errors import ApiError


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded))
    except Exception:
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None
    if not isinstance(value, list):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.")
    return value
