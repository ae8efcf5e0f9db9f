"""What the supply routes share: the roles that manage and read suppliers, purchase orders and
suggestions, the idempotency header, and the cursor of their lists."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Header

from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor

MANAGE = "admin merchant"
READ = "admin merchant analyst auditor"
IdempotencyKey = Annotated[str | None, Header()]


def after_of(cursor: str | None) -> UUID | None:
    after = decode_cursor(cursor)
    try:
        return UUID(str(after[0])) if after else None
    except (ValueError, IndexError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None


def cursor_of(last: UUID | None) -> str | None:
    return encode_cursor([str(last)]) if last else None
