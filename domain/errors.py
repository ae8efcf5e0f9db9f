"""Named domain errors. Each carries a machine code and a human message; the API maps the
error's kind (not found, conflict, invalid) to an HTTP status in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rejected command: nothing was written."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The command contradicts the current state (illegal transition, duplicate, no stock)."""

    code = "conflict"


class InvalidCommand(DomainError):
    """The command is well formed but breaks a rule (unknown SKU, empty split, bad quantity)."""

    code = "validation_error"


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, kind: str, current: str, requested: str):
        super().__init__(
            f"A {kind} in status '{current}' cannot move to '{requested}'.",
            details={"current": current, "requested": requested},
        )


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class VersionMismatch(DomainError):
    """The caller's expected version (If-Match) is not the stream's current version."""

    code = "version_mismatch"

    def __init__(self, expected: int, actual: int):
        super().__init__(
            f"Expected version {expected} but the current version is {actual}.",
            details={"expected": expected, "actual": actual},
        )
        self.expected = expected
        self.actual = actual


class ConcurrencyConflict(Conflict):
    """Another writer appended to the stream between our read and our write."""

    code = "concurrency_conflict"


class IdempotencyKeyReused(InvalidCommand):
    code = "idempotency_key_reused"
