"""Read model for analysts: one fact row per order and per order line, kept from the order,
payment and cancellation events; the analytics queries (``analytics_*.py``) aggregate them
over date ranges.

Facts per order: placement day (UTC), channel, currency, total, units ordered / cancelled /
shipped / delivered, when it was confirmed, cancelled, fully shipped and fully delivered, the
promised delivery day (the scheduled delivery, else ``PROMISE_DAYS`` after placement), and the
amounts captured and refunded (payment streams are tied to their order by their first event;
amounts of payment events that come before their order's ``OrderPlaced``, as they may from
Kafka, are held in ``held_payments`` and added when the order is placed; in a consumer group's
schema a batch's order rows are locked first, ``view_schemas.lock_joined_rows``).
Event names from areas still being built are matched by stored name, so they count as soon as
they appear in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql

from eventstore.recorded import RecordedEvent
from projections.base import Projection
from projections.view_schemas import lock_joined_rows

NAME = "analytics_orders"
PROMISE_DAYS = 5

ORDER_COLUMNS = (
    "order_id",
    "placed_at",
    "day",
    "channel",
    "currency",
    "total",
    "units",
    "cancelled_units",
    "shipped_units",
    "delivered_units",
    "confirmed_at",
    "cancelled_at",
    "fully_shipped_at",
    "fully_delivered_at",
    "promised_by",
    "captured",
    "refunded",
)
LINE_COLUMNS = ("order_id", "line_id", "sku", "product_id", "quantity", "unit_price", "cancelled")
HELD_COLUMNS = ("order_id", "captured", "refunded")
REQUEST_COLUMNS = ("request_id", "order_id", "requested_at", "reviewed_at", "decision")

TOPICS = (
    "order.OrderPlaced",
    "order.OrderConfirmed",
    "order.OrderCancelled",
    "order.OrderLinesCancelled",
    "order.LinesShipped",
    "order.LinesDelivered",
    "order.CancellationRequested",
    "order.CancellationReviewed",
    "payment.PaymentAuthorized",
    "payment.PaymentDeclined",
    "payment.PaymentCaptured",
    "payment.RefundSucceeded",
)


def _when(e: RecordedEvent) -> datetime:
    return e.meta.occurred_at


def placed_facts(e: RecordedEvent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = e.data
    placed_at = datetime.fromisoformat(d["placed_at"]) if d.get("placed_at") else _when(e)
    scheduled = d.get("scheduled_delivery")
    day = placed_at.astimezone(UTC).date()
    promised = date.fromisoformat(scheduled) if scheduled else day + timedelta(days=PROMISE_DAYS)
    order = {
        "order_id": e.stream_id,
        "placed_at": placed_at,
        "day": day,
        "channel": d.get("channel", "direct"),
        "currency": d["currency"],
        "total": Decimal(d["total"]["amount"]),
        "units": sum(line["quantity"] for line in d["lines"]),
        "cancelled_units": 0,
        "shipped_units": 0,
        "delivered_units": 0,
        "confirmed_at": None,
        "cancelled_at": None,
        "fully_shipped_at": None,
        "fully_delivered_at": None,
        "promised_by": promised,
        "captured": Decimal(0),
        "refunded": Decimal(0),
    }
    lines = [
        {
            "order_id": e.stream_id,
            "line_id": line["line_id"],
            "sku": line["sku"],
            "product_id": UUID(str(line["product_id"])),
            "quantity": line["quantity"],
            "unit_price": Decimal(line["unit_price"]["amount"]),
            "cancelled": 0,
        }
        for line in d["lines"]
    ]
    return order, lines


def _quantity(d: dict[str, Any]) -> int:
    return sum(int(line["quantity"]) for line in d.get("lines", []))


class Batch:
    """The rows a batch touches, loaded once, evolved in memory in position order."""

    def __init__(self, cur: Cursor, schema: str):
        self.cur, self.schema = cur, schema
        self.orders: dict[UUID, dict[str, Any]] = {}
        self.lines: dict[tuple[UUID, str], dict[str, Any]] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        self.payments: dict[UUID, UUID] = {}
        self.new_payments: dict[UUID, UUID] = {}
        #: Amounts of payment events whose order has no facts yet, by order id.
        self.held: dict[UUID, dict[str, Any]] = {}
        self.held_changed: set[UUID] = set()
        self.released: set[UUID] = set()

    def t(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))

    def load(self, events: Sequence[RecordedEvent]) -> None:
        pay_streams = list({e.stream_id for e in events if e.stream_type == "payment"})
        if pay_streams:
            self.cur.execute(
                sql.SQL("SELECT stream_id, order_id FROM {} WHERE stream_id = ANY(%s)").format(
                    self.t("payment_orders")
                ),
                (pay_streams,),
            )
            self.payments = {r["stream_id"]: r["order_id"] for r in self.cur.fetchall()}
        for e in events:
            if e.type in ("payment.PaymentAuthorized", "payment.PaymentDeclined"):
                order_id = UUID(str(e.data["order_id"]))
                if e.stream_id not in self.payments:
                    self.payments[e.stream_id] = order_id
                    self.new_payments[e.stream_id] = order_id
        order_ids = list(
            {e.stream_id for e in events if e.stream_type == "order"}
            | {self.payments[e.stream_id] for e in events if e.stream_id in self.payments}
        )
        lock_joined_rows(self.cur, self.schema, order_ids)
        # One statement for the facts and any amounts held for them (none unless payment
        # events came before their order).
        self.cur.execute(
            sql.SQL(
                "SELECT {}, false AS held FROM {} WHERE order_id = ANY(%s) "
                "UNION ALL SELECT {}, true FROM {} WHERE order_id = ANY(%s)"
            ).format(
                sql.SQL(", ").join(map(sql.Identifier, ORDER_COLUMNS)),
                self.t("order_facts"),
                sql.SQL(", ").join(
                    sql.Identifier(c) if c in HELD_COLUMNS else sql.NULL for c in ORDER_COLUMNS
                ),
                self.t("held_payments"),
            ),
            (order_ids, order_ids),
        )
        for r in self.cur.fetchall():
            if r.pop("held"):
                self.held[r["order_id"]] = {c: r[c] for c in HELD_COLUMNS}
            else:
                self.orders[r["order_id"]] = r
        line_orders = [e.stream_id for e in events if e.type in ("order.OrderLinesCancelled",)]
        if line_orders:
            self.cur.execute(
                sql.SQL("SELECT * FROM {} WHERE order_id = ANY(%s)").format(self.t("line_facts")),
                (line_orders,),
            )
            self.lines = {(r["order_id"], r["line_id"]): dict(r) for r in self.cur.fetchall()}
        request_ids = [
            str(e.data["request_id"]) for e in events if e.type == "order.CancellationReviewed"
        ]
        if request_ids:
            self.cur.execute(
                sql.SQL("SELECT * FROM {} WHERE request_id = ANY(%s)").format(
                    self.t("cancellation_requests")
                ),
                (request_ids,),
            )
            self.requests = {r["request_id"]: dict(r) for r in self.cur.fetchall()}

    def apply(self, e: RecordedEvent) -> None:
        d = e.data
        if e.type == "order.OrderPlaced":
            order, lines = placed_facts(e)
            if e.stream_id not in self.orders:
                self.orders[e.stream_id] = order
                held = self.held.pop(e.stream_id, None)
                if held is not None:  # payment events that came before the order
                    order["captured"] += held["captured"]
                    order["refunded"] += held["refunded"]
                    self.released.add(e.stream_id)
            for line in lines:
                self.lines.setdefault((e.stream_id, line["line_id"]), line)
            return
        if e.stream_type == "payment":
            column = {"PaymentCaptured": "captured", "RefundSucceeded": "refunded"}.get(e.name)
            order_id = self.payments.get(e.stream_id)
            if column is None or order_id is None:
                return
            order = self.orders.get(order_id)
            if order is None:
                order = self.held.setdefault(order_id, {"order_id": order_id,
                                                        "captured": Decimal(0),
                                                        "refunded": Decimal(0)})  # fmt: skip
                self.held_changed.add(order_id)
            order[column] += Decimal(str(d["amount"]))
            return
        order = self.orders.get(e.stream_id)
        if order is None:
            return
        match e.name:
            case "OrderConfirmed":
                order["confirmed_at"] = order["confirmed_at"] or _when(e)
            case "OrderCancelled":
                order["cancelled_at"] = order["cancelled_at"] or _when(e)
            case "OrderLinesCancelled":
                order["cancelled_units"] += _quantity(d)
                for line in d["lines"]:
                    row = self.lines.get((e.stream_id, line["line_id"]))
                    if row is not None:
                        row["cancelled"] += int(line["quantity"])
            case "LinesShipped":
                order["shipped_units"] += _quantity(d)
                if _complete(order, "shipped_units") and order["fully_shipped_at"] is None:
                    order["fully_shipped_at"] = _when(e)
            case "LinesDelivered":
                order["delivered_units"] += _quantity(d)
                if _complete(order, "delivered_units") and order["fully_delivered_at"] is None:
                    order["fully_delivered_at"] = _when(e)
            case "CancellationRequested":
                self.requests[str(d["request_id"])] = {
                    "request_id": str(d["request_id"]),
                    "order_id": e.stream_id,
                    "requested_at": _when(e),
                    "reviewed_at": None,
                    "decision": None,
                }
            case "CancellationReviewed":
                request = self.requests.get(str(d["request_id"]))
                if request is not None and request["reviewed_at"] is None:
                    request["reviewed_at"] = _when(e)
                    request["decision"] = d.get("decision")

    def save(self) -> None:
        _upsert(self.cur, self.t("order_facts"), ORDER_COLUMNS, ("order_id",), self.orders)
        _upsert(self.cur, self.t("line_facts"), LINE_COLUMNS, ("order_id", "line_id"), self.lines)
        _upsert(
            self.cur,
            self.t("cancellation_requests"),
            REQUEST_COLUMNS,
            ("request_id",),
            self.requests,
        )
        held = {k: v for k, v in self.held.items() if k in self.held_changed - self.released}
        _upsert(self.cur, self.t("held_payments"), HELD_COLUMNS, ("order_id",), held)
        if self.released:
            self.cur.execute(
                sql.SQL("DELETE FROM {} WHERE order_id = ANY(%s)").format(self.t("held_payments")),
                (list(self.released),),
            )
        if self.new_payments:
            self.cur.executemany(
                sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT DO NOTHING").format(
                    self.t("payment_orders")
                ),
                list(self.new_payments.items()),
            )


def _complete(order: dict[str, Any], column: str) -> bool:
    due = order["units"] - order["cancelled_units"]
    return due > 0 and order[column] >= due


def _upsert(cur: Cursor, table, columns, key, rows: dict) -> None:  # noqa: ANN001
    if not rows:
        return
    updates = [c for c in columns if c not in key]
    cur.executemany(
        sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}").format(
            table,
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.SQL(", ").join(
                sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in updates
            ),
        ),
        [tuple(row[c] for c in columns) for row in rows.values()],
    )


class AnalyticsOrdersView(Projection):
    name = NAME
    topics = TOPICS
    ddl = """
    CREATE TABLE {schema}.order_facts (
        order_id uuid PRIMARY KEY,
        placed_at timestamptz NOT NULL,
        day date NOT NULL,
        channel text NOT NULL,
        currency text NOT NULL,
        total numeric NOT NULL,
        units int NOT NULL,
        cancelled_units int NOT NULL,
        shipped_units int NOT NULL,
        delivered_units int NOT NULL,
        confirmed_at timestamptz,
        cancelled_at timestamptz,
        fully_shipped_at timestamptz,
        fully_delivered_at timestamptz,
        promised_by date NOT NULL,
        captured numeric NOT NULL,
        refunded numeric NOT NULL
    );
    CREATE INDEX ON {schema}.order_facts (day, channel, currency);
    CREATE INDEX ON {schema}.order_facts (cancelled_at) WHERE cancelled_at IS NOT NULL;
    CREATE TABLE {schema}.line_facts (
        order_id uuid NOT NULL,
        line_id text NOT NULL,
        sku text NOT NULL,
        product_id uuid NOT NULL,
        quantity int NOT NULL,
        unit_price numeric NOT NULL,
        cancelled int NOT NULL,
        PRIMARY KEY (order_id, line_id)
    );
    CREATE INDEX ON {schema}.line_facts (sku);
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
    comments = {
        "order_facts": "One fact row per order, for analytics (docs/analytics.md).",
        "order_facts.order_id": "The order.",
        "order_facts.placed_at": "When it was placed (business time).",
        "order_facts.day": "UTC day of placed_at.",
        "order_facts.channel": "Sales channel.",
        "order_facts.currency": "ISO 4217 currency of the amounts.",
        "order_facts.total": "Order total as placed (gross, tax and shipping included).",
        "order_facts.units": "Units ordered.",
        "order_facts.cancelled_units": "Units cancelled.",
        "order_facts.shipped_units": "Units shipped.",
        "order_facts.delivered_units": "Units delivered.",
        "order_facts.confirmed_at": "When it was confirmed (NULL: never).",
        "order_facts.cancelled_at": "When it was cancelled whole (NULL: never).",
        "order_facts.fully_shipped_at": "When its last due unit shipped (NULL: not yet).",
        "order_facts.fully_delivered_at": "When its last due unit was delivered (NULL: not yet).",
        "order_facts.promised_by": "Promised delivery day (scheduled, else placement + 5 days).",
        "order_facts.captured": "Amount captured from the customer.",
        "order_facts.refunded": "Amount refunded (succeeded refunds).",
        "line_facts": "One fact row per order line.",
        "line_facts.order_id": "The order.",
        "line_facts.line_id": "The line.",
        "line_facts.sku": "The stock-keeping unit.",
        "line_facts.product_id": "The product.",
        "line_facts.quantity": "Units ordered.",
        "line_facts.unit_price": "Price per unit as placed.",
        "line_facts.cancelled": "Units of the line cancelled.",
        "payment_orders": "Which order each payment stream belongs to.",
        "payment_orders.stream_id": "The payment's stream id.",
        "payment_orders.order_id": "The order.",
        "held_payments": "Amounts of payment events seen before their order (Kafka order).",
        "held_payments.order_id": "The order.",
        "held_payments.captured": "Captured amount held until the order is placed.",
        "held_payments.refunded": "Refunded amount held until the order is placed.",
        "cancellation_requests": "Cancellation requests, for time-to-review figures.",
        "cancellation_requests.request_id": "The request.",
        "cancellation_requests.order_id": "The order.",
        "cancellation_requests.requested_at": "When it was filed (business time).",
        "cancellation_requests.reviewed_at": "When it was reviewed (NULL: not yet).",
        "cancellation_requests.decision": "approved or rejected (NULL: not yet).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        batch = Batch(cur, schema)
        batch.load(events)
        for e in events:
            batch.apply(e)
        batch.save()

    def compare_key(self) -> dict[str, str]:
        return {
            "order_facts": "order_id",
            "line_facts": "order_id, line_id",
            "payment_orders": "stream_id",
            "held_payments": "order_id",
            "cancellation_requests": "request_id",
        }
