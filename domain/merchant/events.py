"""Events of the Merchant aggregate. A merchant's commission is a percentage (0 to 100, a
decimal string in the store); ``CommissionChanged`` keeps the old and the new rate, so the
rate in force at any point of the log is a fold of these events."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent


class MerchantEvent(DomainEvent):
    stream_type: ClassVar[str] = "merchant"


class MerchantRegistered(MerchantEvent):
    merchant_id: UUID
    name: str
    email: str
    country: str
    commission_percent: Decimal
    registered_by: str


class MerchantStatusChanged(MerchantEvent):
    """Base of the review transitions: who moved it, from which status, and why."""

    previous: str
    reason: str | None = None
    changed_by: str


class MerchantReviewStarted(MerchantStatusChanged):
    pass


class MerchantApproved(MerchantStatusChanged):
    pass


class MerchantRejected(MerchantStatusChanged):
    pass


class MerchantSuspended(MerchantStatusChanged):
    pass


class MerchantReinstated(MerchantStatusChanged):
    pass


class CommissionChanged(MerchantEvent):
    old_percent: Decimal
    new_percent: Decimal
    reason: str
    changed_by: str


#: Each transition event and the status it leads to.
STATUS_AFTER: dict[type[MerchantStatusChanged], str] = {
    MerchantReviewStarted: "under_review",
    MerchantApproved: "approved",
    MerchantRejected: "rejected",
    MerchantSuspended: "suspended",
    MerchantReinstated: "approved",
}

MERCHANT_EVENTS = (MerchantRegistered, *STATUS_AFTER, CommissionChanged)
