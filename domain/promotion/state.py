"""The states the promotion streams fold to, their ``evolve`` and aggregate types, and the
deterministic ids of the streams beside a promotion (its code, its redemptions, a customer's
order ledger)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ids import NAMESPACE
from domain.promotion import events as ev


def code_stream(code: str) -> UUID:
    """Codes are unique case-insensitively: the key is the code in upper case."""
    return uuid5(NAMESPACE, f"promotion-code:{code.upper()}")


def redemptions_stream(promotion_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"promotion-redemptions:{promotion_id}")


def customer_redemptions_stream(promotion_id: UUID, customer_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"promotion-redemptions:{promotion_id}:{customer_id}")


def customer_orders_stream(customer_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"customer-orders:{customer_id}")


@dataclass(frozen=True, slots=True)
class PromotionState:
    exists: bool = False
    status: ev.Status = "draft"
    name: str = ""
    code: str | None = None
    target: ev.Target = "order"
    kind: ev.Kind = "percentage"
    value: Decimal = Decimal(0)
    currency: str | None = None
    conditions: ev.Conditions = ev.Conditions()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    stackable: bool = False

    @property
    def limited(self) -> bool:
        return self.usage_limit is not None or self.per_customer_limit is not None

    def in_window(self, now: datetime) -> bool:
        if self.valid_from is not None and now < self.valid_from:
            return False
        return self.valid_to is None or now < self.valid_to


def evolve(state: PromotionState, event: DomainEvent) -> PromotionState:
    match event:
        case ev.PromotionCreated():
            fields = {k: getattr(event, k) for k in type(event).model_fields if k != "created_by"}
            return PromotionState(exists=True, status="draft", **fields)
        case ev.PromotionActivated():
            return replace(state, status="active")
        case ev.PromotionPaused():
            return replace(state, status="paused")
        case ev.PromotionEnded():
            return replace(state, status="ended")
    return state


PROMOTION = AggregateType("promotion", PromotionState, evolve, ev.PROMOTION_EVENTS)


@dataclass(frozen=True, slots=True)
class CodeState:
    promotion_id: UUID | None = None


def _code(state: CodeState, event: DomainEvent) -> CodeState:
    if isinstance(event, ev.PromotionCodeClaimed):
        return CodeState(event.promotion_id)
    return state


PROMOTION_CODE = AggregateType("promotion_code", CodeState, _code, (ev.PromotionCodeClaimed,))


@dataclass(frozen=True, slots=True)
class Holders:
    """The orders holding a use (a redemption stream) or counting as the customer's (a
    ledger): ids in, ids out."""

    orders: frozenset[UUID] = frozenset()


def _holders(state: Holders, event: DomainEvent) -> Holders:
    match event:
        case ev.RedemptionClaimed(order_id=o) | ev.CustomerOrderCounted(order_id=o):
            return Holders(state.orders | {o})
        case ev.RedemptionReleased(order_id=o) | ev.CustomerOrderUncounted(order_id=o):
            return Holders(state.orders - {o})
    return state


REDEMPTIONS = AggregateType(
    "promotion_redemptions", Holders, _holders, ev.REDEMPTION_EVENTS, snapshot_every=500
)
CUSTOMER_ORDERS = AggregateType(
    "customer_orders", Holders, _holders, ev.LEDGER_EVENTS, snapshot_every=100
)
