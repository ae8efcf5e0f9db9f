"""The tables of the analytics facts view (``analytics_orders.py``), each table and column with
its ``COMMENT`` in the words of ``docs/analytics.md``, where every metric built on them is
defined (the view's ``comments``, written as every view's are)."""

from __future__ import annotations

TABLES = """
CREATE TABLE {schema}.order_facts (
    order_id uuid PRIMARY KEY,
    placed_at timestamptz NOT NULL,
    day date NOT NULL,
    channel text NOT NULL,
    currency text NOT NULL,
    subtotal numeric NOT NULL,
    discount numeric NOT NULL,
    tax numeric NOT NULL,
    shipping numeric NOT NULL,
    total numeric NOT NULL,
    units int NOT NULL,
    cancelled_units int NOT NULL,
    shipped_units int NOT NULL,
    delivered_units int NOT NULL,
    returned_units int NOT NULL,
    status text NOT NULL,
    confirmed boolean NOT NULL,
    processing boolean NOT NULL,
    split boolean NOT NULL,
    cancellation_reason text,
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    fully_shipped_at timestamptz,
    fully_delivered_at timestamptz,
    scheduled_delivery date,
    promised_by date NOT NULL,
    captured numeric NOT NULL,
    refunded numeric NOT NULL
);
CREATE INDEX ON {schema}.order_facts (day, channel, currency);
CREATE INDEX ON {schema}.order_facts (placed_at);
CREATE INDEX ON {schema}.order_facts (cancelled_at) WHERE cancelled_at IS NOT NULL;
CREATE TABLE {schema}.line_facts (
    order_id uuid NOT NULL,
    line_id text NOT NULL,
    sku text NOT NULL,
    product_id uuid NOT NULL,
    quantity int NOT NULL,
    unit_price numeric NOT NULL,
    cancelled int NOT NULL,
    shipped int NOT NULL,
    delivered int NOT NULL,
    returned int NOT NULL,
    PRIMARY KEY (order_id, line_id)
);
CREATE INDEX ON {schema}.line_facts (sku);
CREATE TABLE {schema}.line_cancellations (
    order_id uuid NOT NULL,
    position bigint NOT NULL,
    line_id text NOT NULL,
    reason text NOT NULL,
    whole boolean NOT NULL,
    quantity int NOT NULL,
    cancelled_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, position, line_id)
);
CREATE INDEX ON {schema}.line_cancellations (cancelled_at);
CREATE TABLE {schema}.payment_orders (
    stream_id uuid PRIMARY KEY,
    order_id uuid NOT NULL
);
CREATE TABLE {schema}.held_payments (
    order_id uuid PRIMARY KEY,
    captured numeric NOT NULL,
    refunded numeric NOT NULL
);
CREATE TABLE {schema}.cancellation_requests (
    request_id text PRIMARY KEY,
    order_id uuid NOT NULL,
    requested_at timestamptz NOT NULL,
    reviewed_at timestamptz,
    decision text
);
"""

#: table -> (what a row is, {column: what it holds}); see docs/analytics.md.
COMMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "order_facts": (
        "One row per order (docs/analytics.md, Facts): its amounts, unit counts, status "
        "and business times.",
        {
            "order_id": "The order's id (its stream id).",
            "placed_at": "Business time the order was placed (OrderPlaced.placed_at).",
            "day": "UTC day of placed_at (the analytics endpoints bucket by ?tz= instead).",
            "channel": "Sales channel the order came from.",
            "currency": "ISO 4217 currency of every amount of the order.",
            "subtotal": "Merchandise value: sum of quantity x unit_price, as placed or revised.",
            "discount": "Order-level discount, as placed.",
            "tax": "Tax, as placed or last revised.",
            "shipping": "Shipping charge, as placed or last revised.",
            "total": "Order total: subtotal - discount + tax + shipping, as placed or revised.",
            "units": "Units ordered: sum of the lines' quantity.",
            "cancelled_units": "Units cancelled, by line cancellations or the whole order.",
            "shipped_units": "Units shipped (LinesShipped).",
            "delivered_units": "Units delivered (LinesDelivered).",
            "returned_units": "Units returned and received back (LinesReturned).",
            "status": "Order status derived as the order itself derives it.",
            "confirmed": "Whether the order was confirmed (OrderConfirmed).",
            "processing": "Whether picking started (FulfillmentStarted).",
            "split": "Whether the order was split into child orders (not counted once split).",
            "cancellation_reason": "Reason of the whole-order cancellation (OrderCancelled).",
            "confirmed_at": "When the order was confirmed.",
            "cancelled_at": "Business time of the whole-order cancellation.",
            "fully_shipped_at": "When the last open unit shipped.",
            "fully_delivered_at": "When the last open unit was delivered.",
            "scheduled_delivery": "Delivery day asked for by the customer, if any.",
            "promised_by": "Promised delivery day (UTC): scheduled_delivery, else day + 5.",
            "captured": "Money captured on the order's payment (PaymentCaptured).",
            "refunded": "Money refunded on the order's payment (RefundSucceeded).",
        },
    ),
    "line_facts": (
        "One row per order line: its price and unit counts.",
        {
            "order_id": "The order the line belongs to.",
            "line_id": "The line's id within its order.",
            "sku": "SKU ordered.",
            "product_id": "Product of the SKU.",
            "quantity": "Units ordered, as placed or revised.",
            "unit_price": "Unit price in the order's currency, fixed at placement.",
            "cancelled": "Units cancelled (a whole-order cancellation cancels every open unit).",
            "shipped": "Units shipped.",
            "delivered": "Units delivered.",
            "returned": "Units returned and received back.",
        },
    ),
    "line_cancellations": (
        "One row per cancelled line per cancellation event, with its reason.",
        {
            "order_id": "The order.",
            "position": "Position in the log of the cancelling event.",
            "line_id": "The line cancelled.",
            "reason": "Reason given by the cancellation.",
            "whole": "True when the whole order was cancelled (OrderCancelled).",
            "quantity": "Units of the line this event cancelled.",
            "cancelled_at": "Business time of the cancellation.",
        },
    ),
    "payment_orders": (
        "Which order each payment stream belongs to.",
        {"stream_id": "The payment stream.", "order_id": "Its order."},
    ),
    "held_payments": (
        "Amounts of payment events read before their order's OrderPlaced (Kafka order).",
        {
            "order_id": "The order not yet seen.",
            "captured": "Captured so far.",
            "refunded": "Refunded so far.",
        },
    ),
    "cancellation_requests": (
        "One row per cancellation request and its review.",
        {
            "request_id": "The request.",
            "order_id": "The order it asks to cancel.",
            "requested_at": "When it was asked for.",
            "reviewed_at": "When it was approved or rejected.",
            "decision": "approved or rejected.",
        },
    ),
}


def _flat() -> dict[str, str]:
    """``COMMENTS`` in the shape every view declares (``Projection.comments``: ``"table"`` and
    ``"table.column"``), written by ``projections/table_comments.py``."""
    out: dict[str, str] = {}
    for table, (about, columns) in COMMENTS.items():
        out[table] = about
        out.update({f"{table}.{column}": text for column, text in columns.items()})
    return out


DDL = TABLES
FLAT_COMMENTS = _flat()
