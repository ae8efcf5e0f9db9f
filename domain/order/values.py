"""Value objects an order carries: addresses, gift options, the payment reference and the
priced line a placement is decided with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.money import Money

Channel = Literal["direct", "shopify", "amazon", "ebay", "wholesale"]
Priority = Literal["low", "normal", "high", "urgent"]
NoteKind = Literal["internal", "customer", "system", "agent"]
ModificationType = Literal[
    "item_added",
    "item_removed",
    "quantity_changed",
    "address_change",
    "delivery_date_change",
    "priority_change",
    "gift_options_change",
    "notes_change",
]

MAX_QUANTITY = 1000
MAX_LINES = 100

Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(Value):
    name: Text200
    line1: Text200
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    region: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class GiftOptions(Value):
    wrap: bool = False
    message: Annotated[str, Field(max_length=500)] | None = None
    recipient_name: Annotated[str, Field(max_length=200)] | None = None


class PaymentRef(Value):
    """How the customer pays: a method and a token from the gateway, never card data."""

    method: Literal["card"] = "card"
    token: Annotated[str, Field(min_length=1, max_length=200)]


class LineComponent(Value):
    """A bundle line's component: its SKU and how many of it one bundle holds."""

    sku: str
    quantity: int


class OrderLine(Value):
    line_id: str
    sku: str
    product_id: UUID
    name: str = ""
    quantity: int
    unit_price: Money
    total: Money
    #: The pricing rule that set ``unit_price`` at placement, and its type (None: the
    #: catalog's price, and in lines placed before pricing rules).
    price_rule_id: UUID | None = None
    price_rule_type: str | None = None
    #: A bundle's line: what one bundle holds (the saga reserves these); None otherwise.
    components: list[LineComponent] | None = None
    #: What promotions took off the line (rounded once); None in orders placed without.
    discount: Money | None = None


class AppliedPromotion(Value):
    """A promotion an order got at placement and the amount it took off."""

    promotion_id: UUID
    code: str | None = None
    amount: Money


class LineQuantity(Value):
    """A quantity of one order line (what ships, delivers, returns or is cancelled)."""

    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A requested line with the unit price pricing gave it at placement."""

    sku: str
    product_id: UUID
    name: str
    quantity: int
    unit_price: Money
    price_rule_id: UUID | None = None
    price_rule_type: str | None = None
    #: A bundle's components (SKU, quantity per bundle), as placement read them.
    components: tuple[tuple[str, int], ...] | None = None
