"""Events of the Promotion aggregate and of the streams beside it: the code registry (one
stream per code, like SKUs), the redemption streams (one per limited promotion, one per
(promotion, customer) with a per-customer limit) and the customer order ledger (one stream per
customer: the orders that count as theirs, which ``first_order_only`` reads)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent
from domain.money import Amount

Target = Literal["order", "products", "shipping"]
Kind = Literal["percentage", "fixed_amount"]


class Conditions(BaseModel):
    """When a promotion applies; each condition left out holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_subtotal: Amount | None = None
    skus: tuple[str, ...] = ()
    category_ids: tuple[UUID, ...] = ()
    segments: tuple[str, ...] = ()
    first_order_only: bool = False


class PromotionEvent(DomainEvent):
    stream_type: ClassVar[str] = "promotion"


class PromotionCreated(PromotionEvent):
    name: str
    code: str | None = None
    target: Target
    kind: Kind
    #: A percentage (0–100) or an amount in ``currency``.
    value: Amount
    #: The currency of a fixed amount and of ``min_subtotal`` (None: a percentage, any currency).
    currency: str | None = None
    conditions: Conditions = Conditions()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    stackable: bool = False
    created_by: str


class PromotionActivated(PromotionEvent):
    activated_by: str


class PromotionPaused(PromotionEvent):
    paused_by: str


class PromotionEnded(PromotionEvent):
    ended_by: str


class PromotionCodeClaimed(DomainEvent):
    """The first and only event of a code's stream (``domain.ids``-style key: the code in
    upper case): the code belongs to that promotion for good."""

    stream_type: ClassVar[str] = "promotion_code"

    code: str
    promotion_id: UUID


class RedemptionClaimed(DomainEvent):
    """An order took one use of a limited promotion (on its global or per-customer stream)."""

    stream_type: ClassVar[str] = "promotion_redemptions"

    promotion_id: UUID
    order_id: UUID
    customer_id: UUID


class RedemptionReleased(DomainEvent):
    """The order was cancelled: its use is free again."""

    stream_type: ClassVar[str] = "promotion_redemptions"

    promotion_id: UUID
    order_id: UUID
    reason: str


class CustomerOrderCounted(DomainEvent):
    """The placement saga took the order on (its stock is held): it counts as the customer's."""

    stream_type: ClassVar[str] = "customer_orders"

    customer_id: UUID
    order_id: UUID


class CustomerOrderUncounted(DomainEvent):
    """The order was cancelled: it no longer counts (a later order may be the first)."""

    stream_type: ClassVar[str] = "customer_orders"

    customer_id: UUID
    order_id: UUID


PROMOTION_EVENTS = (PromotionCreated, PromotionActivated, PromotionPaused, PromotionEnded)
REDEMPTION_EVENTS = (RedemptionClaimed, RedemptionReleased)
LEDGER_EVENTS = (CustomerOrderCounted, CustomerOrderUncounted)
ALL_EVENTS = (*PROMOTION_EVENTS, PromotionCodeClaimed, *REDEMPTION_EVENTS, *LEDGER_EVENTS)
Status = Literal["draft", "active", "paused", "ended"]
