"""Moderation statuses and the moves allowed between them: a moderator's decision (approve,
reject, flag) and the author's edit, which sends a review back to ``pending``.

| status   | allowed next                   |
|----------|--------------------------------|
| pending  | approved, rejected, flagged    |
| flagged  | approved, rejected             |
| approved | flagged, pending (edited)      |
| rejected | (none)                         |

A decision that would leave the status as it is (approving an approved review) changes
nothing; editing a pending review keeps it pending."""

from __future__ import annotations

PENDING, APPROVED, REJECTED, FLAGGED = "pending", "approved", "rejected", "flagged"
STATUSES = (PENDING, APPROVED, REJECTED, FLAGGED)

ALLOWED: dict[str, frozenset[str]] = {
    PENDING: frozenset({APPROVED, REJECTED, FLAGGED}),
    FLAGGED: frozenset({APPROVED, REJECTED}),
    APPROVED: frozenset({FLAGGED, PENDING}),
    REJECTED: frozenset(),
}

#: A moderator's decision → the status it leads to.
OUTCOME = {"approve": APPROVED, "reject": REJECTED, "flag": FLAGGED}


def may_move(current: str, target: str) -> bool:
    return target in ALLOWED[current]


def may_edit(current: str) -> bool:
    """An edit leaves the review pending: from pending (it stays) or approved (it goes back)."""
    return current == PENDING or may_move(current, PENDING)
