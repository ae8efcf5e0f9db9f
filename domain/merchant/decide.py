"""Merchant decisions. The review follows one table:

| from | command | to |
|---|---|---|
| applied | review | under_review |
| under_review | approve / reject | approved / rejected |
| approved | suspend | suspended |
| suspended | reinstate | approved |

A command whose target is the current status (approving an approved merchant) writes nothing;
any other move the table lacks is ``409 merchant_not_<required status>`` with the current and
requested statuses in the details. An unknown merchant is ``404 merchant_not_found``; a rate
outside 0–100 is ``422 commission_out_of_range``; a rejected merchant's rate no longer
changes (``409 merchant_rejected``)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain.customer.contact import valid_email, valid_name
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.merchant import events as ev
from domain.merchant.commands import ChangeCommission, MoveMerchant, RegisterMerchant
from domain.merchant.state import MerchantState

#: command → (the status it requires, the event it records, the status it leads to)
TRANSITIONS: dict[str, tuple[str, type[ev.MerchantStatusChanged], str]] = {
    "review": ("applied", ev.MerchantReviewStarted, "under_review"),
    "approve": ("under_review", ev.MerchantApproved, "approved"),
    "reject": ("under_review", ev.MerchantRejected, "rejected"),
    "suspend": ("approved", ev.MerchantSuspended, "suspended"),
    "reinstate": ("suspended", ev.MerchantReinstated, "approved"),
}


def valid_percent(text: str) -> Decimal:
    """The rate a decimal string gives, from 0 to 100 inclusive."""
    percent = Decimal(text)
    if not Decimal(0) <= percent <= Decimal(100):
        raise InvalidCommand(
            "The commission is a percentage from 0 to 100.",
            code="commission_out_of_range",
            details={"field": "commission_percent", "value": text},
        )
    return percent


def require_merchant(state: MerchantState, merchant_id: UUID) -> MerchantState:
    if not state.exists:
        raise NotFound(f"Merchant {merchant_id} does not exist.", code="merchant_not_found")
    return state


def register(
    state: MerchantState, c: RegisterMerchant, *, merchant_id: UUID, by: str
) -> list[DomainEvent]:
    name, email = valid_name(c.name), valid_email(c.email)
    percent = valid_percent(c.commission_percent)
    if state.exists:
        raise Conflict(f"Merchant {merchant_id} exists already.", code="merchant_exists")
    return [
        ev.MerchantRegistered(
            merchant_id=merchant_id,
            name=name,
            email=email,
            country=c.country,
            commission_percent=percent,
            registered_by=by,
        )
    ]


def move(state: MerchantState, c: MoveMerchant, *, by: str) -> list[DomainEvent]:
    require_merchant(state, c.merchant_id)
    required, event, target = TRANSITIONS[c.transition]
    if state.status == target and state.status != required:
        return []
    if state.status != required:
        raise Conflict(
            f"Merchant {c.merchant_id} is '{state.status}': '{c.transition}' needs '{required}'.",
            code=f"merchant_not_{required}",
            details={"current": state.status, "requested": target},
        )
    return [event(previous=state.status, reason=c.reason, changed_by=by)]


def change_commission(state: MerchantState, c: ChangeCommission, *, by: str) -> list[DomainEvent]:
    percent = valid_percent(c.commission_percent)
    require_merchant(state, c.merchant_id)
    if state.status == "rejected":
        raise Conflict(f"Merchant {c.merchant_id} was rejected.", code="merchant_rejected")
    if percent == state.commission_percent:
        return []
    return [
        ev.CommissionChanged(
            old_percent=state.commission_percent,
            new_percent=percent,
            reason=c.reason,
            changed_by=by,
        )
    ]
