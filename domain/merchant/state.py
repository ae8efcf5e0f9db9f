"""Merchant decision state: whether it exists, its status and its commission rate."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.merchant.events import (
    MERCHANT_EVENTS,
    STATUS_AFTER,
    CommissionChanged,
    MerchantRegistered,
)


@dataclass(frozen=True, slots=True)
class MerchantState:
    exists: bool = False
    merchant_id: UUID | None = None
    status: str = ""
    commission_percent: Decimal = Decimal(0)


def evolve(state: MerchantState, event: DomainEvent) -> MerchantState:
    match event:
        case MerchantRegistered():
            return MerchantState(
                exists=True,
                merchant_id=event.merchant_id,
                status="applied",
                commission_percent=event.commission_percent,
            )
        case CommissionChanged():
            return replace(state, commission_percent=event.new_percent)
    after = STATUS_AFTER.get(type(event))  # type: ignore[arg-type]
    return replace(state, status=after) if after is not None else state


MERCHANT = AggregateType("merchant", MerchantState, evolve, MERCHANT_EVENTS)
