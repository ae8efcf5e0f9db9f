"""Read model for analysts: one fact row per order and per order line, and one row per line
cancellation, kept from the order, payment and cancellation events; the analytics queries
(``analytics_*.py``) aggregate them over date ranges. What each column means, and every
metric built on them, is defined once in ``docs/analytics.md``; the tables and columns carry
the same words as ``COMMENT``s (``analytics_schema.py``).

Facts per order: placement time and day (UTC), channel, currency, the order's amounts as
placed or last revised, units ordered / cancelled / shipped / delivered / returned, its status
(``domain.order.status.derive_status`` over the same facts), the cancellation reason, when it
was confirmed, cancelled, fully shipped and fully delivered, the promised delivery day, and
the amounts captured and refunded (payment streams are tied to their order by their first
event; amounts of payment events that come before their order's ``OrderPlaced``, as they may
from Kafka, are held in ``held_payments`` and added when the order is placed; in a consumer
group's schema a batch's order rows are locked first, ``view_schemas.lock_joined_rows``).
An order cancelled whole cancels every unit of its lines still open (``line_facts.cancelled``
and a ``line_cancellations`` row per line, ``whole`` true).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql

from domain.order.status import StatusFacts, derive_status
from eventstore.recorded import RecordedEvent
from projections.analytics_schema import DDL, FLAT_COMMENTS
from projections.base import Projection
from projections.batch_writes import insert_records, insert_values
from projections.view_schemas import lock_joined_rows

NAME = "analytics_orders"
PROMISE_DAYS = 5

ORDER_COLUMNS = (
    "order_id",
    "placed_at",
    "day",
    "channel",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "shipping",
    "total",
    "units",
    "cancelled_units",
    "shipped_units",
    "delivered_units",
    "returned_units",
    "status",
    "confirmed",
    "processing",
    "split",
    "cancellation_reason",
    "confirmed_at",
    "cancelled_at",
    "fully_shipped_at",
    "fully_delivered_at",
    "scheduled_delivery",
    "promised_by",
    "captured",
    "refunded",
)
LINE_COLUMNS = (
    "order_id",
    "line_id",
    "sku",
    "product_id",
    "quantity",
    "unit_price",
    "cancelled",
    "shipped",
    "delivered",
    "returned",
)
CANCELLATION_COLUMNS = (
    "order_id",
    "position",
    "line_id",
    "reason",
    "whole",
    "quantity",
    "cancelled_at",
)
HELD_COLUMNS = ("order_id", "captured", "refunded")
REQUEST_COLUMNS = ("request_id", "order_id", "requested_at", "reviewed_at", "decision")

TOPICS = (
    "order.OrderPlaced",
    "order.OrderConfirmed",
    "order.OrderCancelled",
    "order.OrderLinesCancelled",
    "order.OrderModified",
    "order.OrderSplit",
    "order.LinesRevised",
    "order.FulfillmentStarted",
    "order.LinesShipped",
    "order.LinesDelivered",
    "order.LinesReturned",
    "order.CancellationRequested",
    "order.CancellationReviewed",
    "payment.PaymentAuthorized",
    "payment.PaymentDeclined",
    "payment.PaymentCaptured",
    "payment.RefundSucceeded",
)


def _when(e: RecordedEvent) -> datetime:
    return e.meta.occurred_at


def _amount(money: dict[str, Any] | None) -> Decimal:
    return Decimal(money["amount"]) if money else Decimal(0)


def _line(order_id: UUID, line: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_id": line["line_id"],
        "sku": line["sku"],
        "product_id": UUID(str(line["product_id"])),
        "quantity": int(line["quantity"]),
        "unit_price": Decimal(line["unit_price"]["amount"]),
        "cancelled": 0,
        "shipped": 0,
        "delivered": 0,
        "returned": 0,
    }


def placed_facts(e: RecordedEvent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = e.data
    placed_at = datetime.fromisoformat(d["placed_at"]) if d.get("placed_at") else _when(e)
    scheduled = d.get("scheduled_delivery")
    day = placed_at.astimezone(UTC).date()
    order = {
        "order_id": e.stream_id,
        "placed_at": placed_at,
        "day": day,
        "channel": d.get("channel", "direct"),
        "currency": d["currency"],
        "subtotal": _amount(d.get("subtotal")),
        "discount": _amount(d.get("discount")),
        "tax": _amount(d.get("tax")),
        "shipping": _amount(d.get("shipping")),
        "total": _amount(d["total"]),
        "units": sum(int(line["quantity"]) for line in d["lines"]),
        "cancelled_units": 0,
        "shipped_units": 0,
        "delivered_units": 0,
        "returned_units": 0,
        "status": "pending",
        "confirmed": False,
        "processing": False,
        "split": False,
        "cancellation_reason": None,
        "confirmed_at": None,
        "cancelled_at": None,
        "fully_shipped_at": None,
        "fully_delivered_at": None,
        "scheduled_delivery": date.fromisoformat(scheduled) if scheduled else None,
        "promised_by": _promise(day, scheduled),
        "captured": Decimal(0),
        "refunded": Decimal(0),
    }
    return order, [_line(e.stream_id, line) for line in d["lines"]]


def _promise(day: date, scheduled: str | date | None) -> date:
    if scheduled is None:
        return day + timedelta(days=PROMISE_DAYS)
    return scheduled if isinstance(scheduled, date) else date.fromisoformat(scheduled)


def _by_line(d: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in d.get("lines", []):
        out[line["line_id"]] = out.get(line["line_id"], 0) + int(line["quantity"])
    return out


class Batch:
    """The rows a batch touches, loaded once, evolved in memory in position order."""

    def __init__(self, cur: Cursor, schema: str):
        self.cur, self.schema = cur, schema
        self.orders: dict[UUID, dict[str, Any]] = {}
        #: Line rows by order id, then line id.
        self.lines: dict[UUID, dict[str, dict[str, Any]]] = {}
        self.removed_lines: set[tuple[UUID, str]] = set()
        self.cancellations: dict[tuple, dict[str, Any]] = {}
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
        line_orders = list(
            {e.stream_id for e in events if e.stream_type == "order" and e.name != "OrderPlaced"}
            & set(self.orders)
        )
        if line_orders:
            self.cur.execute(
                sql.SQL("SELECT {} FROM {} WHERE order_id = ANY(%s)").format(
                    sql.SQL(", ").join(map(sql.Identifier, LINE_COLUMNS)), self.t("line_facts")
                ),
                (line_orders,),
            )
            for r in self.cur.fetchall():
                self.lines.setdefault(r["order_id"], {})[r["line_id"]] = dict(r)
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

    def order_lines(self, order_id: UUID) -> dict[str, dict[str, Any]]:
        return self.lines.setdefault(order_id, {})

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
                    self.order_lines(e.stream_id).setdefault(line["line_id"], line)
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
        self._order_event(order, e)
        self._derive(order)
        # The first event after which every open unit has shipped (delivered): a shipment, or
        # a cancellation of the last units that had not.
        if order["fully_shipped_at"] is None and _complete(order, "shipped_units"):
            order["fully_shipped_at"] = _when(e)
        if order["fully_delivered_at"] is None and _complete(order, "delivered_units"):
            order["fully_delivered_at"] = _when(e)

    def _order_event(self, order: dict[str, Any], e: RecordedEvent) -> None:
        d = e.data
        match e.name:
            case "OrderConfirmed":
                order["confirmed"] = True
                order["confirmed_at"] = order["confirmed_at"] or _when(e)
            case "FulfillmentStarted":
                order["processing"] = True
            case "OrderSplit":
                order["split"] = True
            case "OrderModified" if d.get("field") == "scheduled_delivery":
                new = d.get("new_value")
                order["scheduled_delivery"] = date.fromisoformat(str(new)) if new else None
                order["promised_by"] = _promise(order["day"], order["scheduled_delivery"])
            case "OrderCancelled" if order["cancelled_at"] is None:
                self._cancel_whole(order, e)
            case "OrderLinesCancelled":
                self._cancel(e, _by_line(d), d.get("reason"), _when(e), whole=False)
            case "LinesRevised":
                self._revise(order, e)
            case "LinesShipped":
                self._count(e, "shipped")
            case "LinesDelivered":
                self._count(e, "delivered")
            case "LinesReturned":
                self._count(e, "returned")
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

    def _cancel_whole(self, order: dict[str, Any], e: RecordedEvent) -> None:
        """The order cancelled whole, at its business time: every unit still open on every
        line is cancelled with it."""
        d = e.data
        when = datetime.fromisoformat(d["cancelled_at"]) if d.get("cancelled_at") else _when(e)
        order["cancelled_at"] = when
        order["cancellation_reason"] = d.get("reason")
        still_open = {
            row["line_id"]: row["quantity"] - row["cancelled"] - row["shipped"]
            for row in self.order_lines(e.stream_id).values()
        }
        self._cancel(e, still_open, d.get("reason"), when, whole=True)

    def _cancel(
        self,
        e: RecordedEvent,
        units: dict[str, int],
        reason: str | None,
        when: datetime,
        *,
        whole: bool,
    ) -> None:
        """``units`` of the order's lines cancelled (by line id), one row each with its reason."""
        for line_id, quantity in units.items():
            row = self.order_lines(e.stream_id).get(line_id)
            if row is None or quantity <= 0:
                continue
            row["cancelled"] += quantity
            key = (e.stream_id, e.position, line_id)
            self.cancellations[key] = {
                "order_id": e.stream_id,
                "position": e.position,
                "line_id": line_id,
                "reason": reason or "unknown",
                "whole": whole,
                "quantity": quantity,
                "cancelled_at": when,
            }

    def _count(self, e: RecordedEvent, column: str) -> None:
        for line_id, quantity in _by_line(e.data).items():
            row = self.order_lines(e.stream_id).get(line_id)
            if row is not None:
                row[column] += quantity

    def _revise(self, order: dict[str, Any], e: RecordedEvent) -> None:
        d = e.data
        rows = self.order_lines(e.stream_id)
        kept = set()
        for line in d["lines"]:
            kept.add(line["line_id"])
            row = rows.get(line["line_id"])
            if row is None:
                rows[line["line_id"]] = _line(e.stream_id, line)
                self.removed_lines.discard((e.stream_id, line["line_id"]))
            else:
                row["quantity"] = int(line["quantity"])
                row["unit_price"] = Decimal(line["unit_price"]["amount"])
        for line_id in [x for x in rows if x not in kept]:
            del rows[line_id]
            self.removed_lines.add((e.stream_id, line_id))
        for column in ("subtotal", "tax", "shipping", "total"):
            order[column] = _amount(d.get(column))

    def _derive(self, order: dict[str, Any]) -> None:
        """The order's unit sums from its lines, and its status from the same facts."""
        lines = self.order_lines(order["order_id"]).values()
        if lines:
            for column, line_column in (
                ("units", "quantity"),
                ("cancelled_units", "cancelled"),
                ("shipped_units", "shipped"),
                ("delivered_units", "delivered"),
                ("returned_units", "returned"),
            ):
                order[column] = sum(row[line_column] for row in lines)
        order["status"] = derive_status(
            StatusFacts(
                ordered=order["units"],
                cancelled_units=order["cancelled_units"],
                shipped=order["shipped_units"],
                delivered=order["delivered_units"],
                returned=order["returned_units"],
                confirmed=order["confirmed"],
                processing=order["processing"],
                cancelled=order["cancelled_at"] is not None,
            )
        )

    def save(self) -> None:
        _upsert(self.cur, self.t("order_facts"), ORDER_COLUMNS, ("order_id",), self.orders)
        if self.removed_lines:
            self.cur.execute(
                sql.SQL(
                    "DELETE FROM {} WHERE (order_id, line_id) IN "
                    "(SELECT * FROM unnest(%s::uuid[], %s::text[]))"
                ).format(self.t("line_facts")),
                tuple(map(list, zip(*self.removed_lines, strict=True))),
            )
        lines = {(o, i): row for o, rows in self.lines.items() for i, row in rows.items()}
        _upsert(self.cur, self.t("line_facts"), LINE_COLUMNS, ("order_id", "line_id"), lines)
        _upsert(
            self.cur,
            self.t("line_cancellations"),
            CANCELLATION_COLUMNS,
            ("order_id", "position", "line_id"),
            self.cancellations,
        )
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
        insert_values(
            self.cur,
            sql.SQL("INSERT INTO {}").format(self.t("payment_orders")),
            list(self.new_payments.items()),
            sql.SQL("ON CONFLICT DO NOTHING"),
        )


def _complete(order: dict[str, Any], column: str) -> bool:
    due = order["units"] - order["cancelled_units"]
    return due > 0 and order[column] >= due


def _upsert(cur: Cursor, table, columns, key, rows: dict) -> None:  # noqa: ANN001
    if not rows:
        return
    updates = [c for c in columns if c not in key]
    # One statement for the batch's rows (one per key: ``rows`` is keyed by it).
    insert_records(
        cur,
        table,
        columns,
        [tuple(row[c] for c in columns) for row in rows.values()],
        sql.SQL("ON CONFLICT ({}) DO UPDATE SET {}").format(
            sql.SQL(", ").join(map(sql.Identifier, key)),
            sql.SQL(", ").join(
                sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in updates
            ),
        ),
    )


class AnalyticsOrdersView(Projection):
    name = NAME
    topics = TOPICS
    ddl = DDL
    comments = FLAT_COMMENTS

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
            "line_cancellations": "order_id, position, line_id",
            "payment_orders": "stream_id",
            "held_payments": "order_id",
            "cancellation_requests": "request_id",
        }
