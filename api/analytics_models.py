"""Response models of the analytics endpoints (``api/routes/analytics.py``). Every field is
a metric or a dimension defined once in ``docs/analytics.md``, under the same name. Amounts
are decimal strings in the row's currency, rounded half-up to its minor unit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.order.status import STATUSES

Amount = str
Status = Literal[STATUSES]  # type: ignore[valid-type]  # the order's statuses, in their order


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SalesRow(Row):
    day: str = Field(description="Placement day (YYYY-MM-DD) in the asked time zone.")
    channel: str
    currency: str
    orders: int
    cancelled_orders: int
    units: int
    cancelled_units: int
    returned_units: int
    net_units: int
    gross: Amount
    net_sales: Amount
    gross_revenue: Amount
    discounts: Amount
    cancelled_amount: Amount
    returned_amount: Amount
    net_revenue: Amount
    revenue: Amount = Field(description="The same as net_revenue (kept for older clients).")
    captured: Amount
    refunded: Amount
    net_captured: Amount


class AverageOrderValueRow(Row):
    currency: str
    channel: str | None = Field(None, description="Only with ?by_channel=true.")
    orders: int
    cancelled_orders: int
    net_sales: Amount
    total: Amount = Field(description="The same as net_sales (kept for older clients).")
    average_order_value: Amount | None


class ProductRow(Row):
    sku: str
    product_id: str
    currency: str
    orders: int
    units: int
    cancelled_units: int
    returned_units: int
    net_units: int
    gross_revenue: Amount
    discounts: Amount
    cancelled_amount: Amount
    returned_amount: Amount
    net_revenue: Amount
    revenue: Amount = Field(description="The same as net_revenue (kept for older clients).")


class TopProductRow(ProductRow):
    rank: int = Field(description="1 for the best product of its currency.")


class Rate(Row):
    rate: float | None = Field(description="The share, or null when nothing was counted.")


class FulfillmentRate(Rate):
    orders: int
    fulfilled: int


class OnTimeDeliveryRate(Rate):
    delivered: int
    on_time: int


class FulfillmentReport(Row):
    fulfillment: FulfillmentRate
    on_time_delivery: OnTimeDeliveryRate


class CancellationsByCurrency(Row):
    currency: str
    cancelled_orders: int
    cancelled_units: int
    cancelled_amount: Amount
    refunded: Amount


class CancellationReasonRow(Row):
    reason: str
    currency: str
    cancelled_orders: int
    cancelled_units: int
    cancelled_amount: Amount


class CancellationsReport(Row):
    cancelled_orders: int
    by_currency: list[CancellationsByCurrency]
    by_reason: list[CancellationReasonRow]
    requests_reviewed: int
    requests_approved: int
    average_review_seconds: float | None


class StatusRow(Row):
    status: Status
    orders: int


class ReorderSuggestion(Row):
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    reorder_quantity: int | None = Field(description="As configured in the thresholds.")
    max_stock: int | None
    low_stock: bool
    suggested_reorder_quantity: int


class Sales(Row):
    items: list[SalesRow]


class AverageOrderValues(Row):
    items: list[AverageOrderValueRow]


class Products(Row):
    items: list[ProductRow]


class TopProducts(Row):
    items: list[TopProductRow]


class CancellationReasons(Row):
    items: list[CancellationReasonRow]


class OrdersByStatus(Row):
    items: list[StatusRow]


class ReorderSuggestions(Row):
    items: list[ReorderSuggestion]
