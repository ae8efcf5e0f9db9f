"""The analytics endpoints' answers recomputed in plain Python from orders' own events, by the
definitions of ``docs/analytics.md`` (no projection code): ``fold`` an order's events into its
facts, then ``expected_<report>`` of the folded orders over a ``Period``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.ids import payment_stream

STATUSES = (
    "pending",
    "confirmed",
    "processing",
    "partially_shipped",
    "shipped",
    "delivered",
    "returned",
    "cancelled",
)
PROMISE_DAYS = 5
MINOR = {"USD": Decimal("0.01"), "EUR": Decimal("0.01")}


def fold(store, order_id: UUID) -> dict:  # noqa: ANN001
    """One order's facts from its own events and its payment's."""
    o: dict[str, Any] = {"captured": Decimal(0), "refunded": Decimal(0), "requests": {}}
    o["cancels"] = []  # (reason, whole, line_id, units, at)
    o["names"] = set()
    o["split"] = False
    for e in store.load_with_positions(order_id):
        d = e.data
        o["names"].add(e.name)
        match e.name:
            case "OrderPlaced":
                o.update(
                    placed_at=datetime.fromisoformat(d["placed_at"]),
                    channel=d["channel"],
                    currency=d["currency"],
                    total=Decimal(d["total"]["amount"]),
                    discount=Decimal(d["discount"]["amount"]),
                    subtotal=Decimal(d["subtotal"]["amount"]),
                    scheduled=date.fromisoformat(d["scheduled_delivery"])
                    if d.get("scheduled_delivery")
                    else None,
                    confirmed=False,
                    processing=False,
                    cancelled_at=None,
                    reason=None,
                    shipped_at=None,
                    delivered_at=None,
                    lines={
                        x["line_id"]: {
                            "sku": x["sku"],
                            "product_id": x["product_id"],
                            "quantity": x["quantity"],
                            "price": Decimal(x["unit_price"]["amount"]),
                            "cancelled": 0,
                            "shipped": 0,
                            "delivered": 0,
                            "returned": 0,
                        }
                        for x in d["lines"]
                    },
                )
            case "OrderConfirmed":
                o["confirmed"] = True
            case "OrderSplit":
                o["split"] = True
            case "OrderModified" if d["field"] == "scheduled_delivery":
                o["scheduled"] = date.fromisoformat(d["new_value"]) if d["new_value"] else None
            case "LinesRevised":
                o["total"] = Decimal(d["total"]["amount"])
                o["subtotal"] = Decimal(d["subtotal"]["amount"])
                old = o["lines"]
                o["lines"] = {}
                for x in d["lines"]:
                    ln = old.get(x["line_id"]) or {
                        "sku": x["sku"],
                        "product_id": x["product_id"],
                        "price": Decimal(x["unit_price"]["amount"]),
                        **dict.fromkeys(("cancelled", "shipped", "delivered", "returned"), 0),
                    }
                    o["lines"][x["line_id"]] = {**ln, "quantity": x["quantity"]}
            case "FulfillmentStarted":
                o["processing"] = True
            case "OrderCancelled":
                o["cancelled_at"] = datetime.fromisoformat(d["cancelled_at"])
                o["reason"] = d["reason"]
                for line_id, ln in o["lines"].items():
                    left = ln["quantity"] - ln["cancelled"] - ln["shipped"]
                    if left > 0:
                        ln["cancelled"] += left
                        o["cancels"].append((d["reason"], True, line_id, left, o["cancelled_at"]))
            case "OrderLinesCancelled":
                for x in d["lines"]:
                    o["lines"][x["line_id"]]["cancelled"] += x["quantity"]
                    o["cancels"].append(
                        (d["reason"], False, x["line_id"], x["quantity"], e.meta.occurred_at)
                    )
            case "LinesShipped" | "LinesDelivered" | "LinesReturned":
                column = {"LinesShipped": "shipped", "LinesDelivered": "delivered"}.get(
                    e.name, "returned"
                )
                for x in d["lines"]:
                    o["lines"][x["line_id"]][column] += x["quantity"]
            case "CancellationRequested":
                o["requests"][d["request_id"]] = {"at": e.meta.occurred_at}
            case "CancellationReviewed":
                o["requests"][d["request_id"]].update(
                    reviewed=e.meta.occurred_at, decision=d["decision"]
                )
        if "lines" in o:
            open_units = sum(ln["quantity"] - ln["cancelled"] for ln in o["lines"].values())
            for key, column in (("shipped_at", "shipped"), ("delivered_at", "delivered")):
                done = sum(ln[column] for ln in o["lines"].values())
                if o[key] is None and open_units > 0 and done >= open_units:
                    o[key] = e.meta.occurred_at
    for e in store.load_with_positions(payment_stream(order_id)):
        o["names"].add(e.name)
        if e.name == "PaymentCaptured":
            o["captured"] += Decimal(e.data["amount"])
        elif e.name == "RefundSucceeded":
            o["refunded"] += Decimal(e.data["amount"])
    return o


def _sum(lines: dict, column: str) -> int:
    return sum(ln[column] for ln in lines.values())


def status_of(o: dict) -> str:
    ordered, cancelled = _sum(o["lines"], "quantity"), _sum(o["lines"], "cancelled")
    open_units = ordered - cancelled
    shipped, delivered = _sum(o["lines"], "shipped"), _sum(o["lines"], "delivered")
    returned = _sum(o["lines"], "returned")
    if o["cancelled_at"] is not None:
        return "cancelled"
    for status, units in (("returned", returned), ("delivered", delivered), ("shipped", shipped)):
        if open_units > 0 and units == open_units:
            return status
    if shipped > 0:
        return "partially_shipped"
    return "processing" if o["processing"] else "confirmed" if o["confirmed"] else "pending"


def _cents(value: Decimal, currency: str) -> str:
    return str(value.quantize(MINOR[currency], ROUND_HALF_UP))


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    tz: str

    def day(self, at: datetime) -> date:
        return at.astimezone(ZoneInfo(self.tz)).date()

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= self.day(at) <= self.end

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "tz": self.tz}


def _merchandise(o: dict) -> dict[str, Decimal]:
    lines = o["lines"].values()
    gross = sum((ln["quantity"] * ln["price"] for ln in lines), Decimal(0))
    cancelled = sum((ln["cancelled"] * ln["price"] for ln in lines), Decimal(0))
    returned = sum((ln["returned"] * ln["price"] for ln in lines), Decimal(0))
    discounts = o["discount"] if o["cancelled_at"] is None else Decimal(0)
    return {"gross": gross, "cancelled": cancelled, "returned": returned, "discounts": discounts}


def expected_sales(orders: list[dict], p: Period) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for o in orders:
        if p.holds(o["placed_at"]):
            groups[(p.day(o["placed_at"]).isoformat(), o["channel"], o["currency"])].append(o)
    rows = []
    for (day, channel, c), group in sorted(groups.items()):
        m = [_merchandise(o) for o in group]
        total = {k: sum((x[k] for x in m), Decimal(0)) for k in m[0]}
        net = total["gross"] - total["discounts"] - total["cancelled"] - total["returned"]
        units = sum(_sum(o["lines"], "quantity") for o in group)
        cancelled_units = sum(_sum(o["lines"], "cancelled") for o in group)
        returned_units = sum(_sum(o["lines"], "returned") for o in group)
        kept = [o for o in group if o["cancelled_at"] is None]
        captured = sum((o["captured"] for o in group), Decimal(0))
        refunded = sum((o["refunded"] for o in group), Decimal(0))
        rows.append(
            {
                "day": day,
                "channel": channel,
                "currency": c,
                "orders": len(group),
                "cancelled_orders": len(group) - len(kept),
                "units": units,
                "cancelled_units": cancelled_units,
                "returned_units": returned_units,
                "net_units": units - cancelled_units - returned_units,
                "gross": _cents(sum((o["total"] for o in group), Decimal(0)), c),
                "net_sales": _cents(sum((o["total"] for o in kept), Decimal(0)), c),
                "gross_revenue": _cents(total["gross"], c),
                "discounts": _cents(total["discounts"], c),
                "cancelled_amount": _cents(total["cancelled"], c),
                "returned_amount": _cents(total["returned"], c),
                "net_revenue": _cents(net, c),
                "revenue": _cents(net, c),
                "captured": _cents(captured, c),
                "refunded": _cents(refunded, c),
                "net_captured": _cents(captured - refunded, c),
            }
        )
    return rows


def expected_aov(orders: list[dict], p: Period, by_channel: bool) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for o in orders:
        if p.holds(o["placed_at"]):
            key = (o["currency"], o["channel"]) if by_channel else (o["currency"],)
            groups[key].append(o)
    rows = []
    for key, group in sorted(groups.items()):
        c = key[0]
        kept = [o for o in group if o["cancelled_at"] is None]
        net = sum((o["total"] for o in kept), Decimal(0))
        rows.append(
            {
                "currency": c,
                **({"channel": key[1]} if by_channel else {}),
                "orders": len(group),
                "cancelled_orders": len(group) - len(kept),
                "net_sales": _cents(net, c),
                "total": _cents(net, c),
                "average_order_value": _cents(net / len(kept), c) if kept else None,
            }
        )
    return rows


def _product_rows(orders: list[dict], p: Period) -> list[dict]:
    acc: dict[tuple, dict] = {}
    for o in orders:
        if not p.holds(o["placed_at"]):
            continue
        for ln in o["lines"].values():
            key = (ln["sku"], ln["product_id"], o["currency"])
            r = acc.setdefault(
                key,
                {
                    "orders": set(),
                    **dict.fromkeys(("units", "cancelled", "returned"), 0),
                    **{k: Decimal(0) for k in ("gross", "disc", "camt", "ramt")},
                },
            )
            value = ln["quantity"] * ln["price"]
            r["orders"].add(id(o))
            r["units"] += ln["quantity"]
            r["cancelled"] += ln["cancelled"]
            r["returned"] += ln["returned"]
            r["gross"] += value
            if o["cancelled_at"] is None and o["subtotal"] > 0:
                r["disc"] += o["discount"] * value / o["subtotal"]
            r["camt"] += ln["cancelled"] * ln["price"]
            r["ramt"] += ln["returned"] * ln["price"]
    rows = []
    for (sku, product_id, c), r in acc.items():
        net_units = r["units"] - r["cancelled"] - r["returned"]
        net = r["gross"] - r["disc"] - r["camt"] - r["ramt"]
        rows.append(
            {
                "sku": sku,
                "product_id": product_id,
                "currency": c,
                "orders": len(r["orders"]),
                "units": r["units"],
                "cancelled_units": r["cancelled"],
                "returned_units": r["returned"],
                "net_units": net_units,
                "gross_revenue": _cents(r["gross"], c),
                "discounts": _cents(r["disc"], c),
                "cancelled_amount": _cents(r["camt"], c),
                "returned_amount": _cents(r["ramt"], c),
                "net_revenue": _cents(net, c),
                "revenue": _cents(net, c),
                "_net": net,
            }
        )
    return rows


def expected_products(orders: list[dict], p: Period) -> list[dict]:
    rows = _product_rows(orders, p)
    rows.sort(key=lambda r: (r["sku"], r["product_id"]))
    rows.sort(key=lambda r: r["_net"], reverse=True)
    rows.sort(key=lambda r: r["currency"])
    return [{k: v for k, v in r.items() if k != "_net"} for r in rows]


def expected_top(orders: list[dict], p: Period, by: str, limit: int) -> list[dict]:
    metric = "_net" if by == "revenue" else "net_units"
    rows = _product_rows(orders, p)
    rows.sort(key=lambda r: (r["sku"], r["product_id"]))
    rows.sort(key=lambda r: r[metric], reverse=True)
    rows.sort(key=lambda r: r["currency"])
    out, rank = [], defaultdict(int)
    for r in rows:
        rank[r["currency"]] += 1
        if rank[r["currency"]] <= limit:
            out.append({**{k: v for k, v in r.items() if k != "_net"}, "rank": rank[r["currency"]]})
    return out


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 6)


def expected_fulfillment(orders: list[dict], p: Period) -> dict:
    placed = [o for o in orders if p.holds(o["placed_at"]) and o["cancelled_at"] is None]
    live = [o for o in placed if _sum(o["lines"], "quantity") > _sum(o["lines"], "cancelled")]
    fulfilled = [
        o
        for o in live
        if _sum(o["lines"], "shipped")
        >= _sum(o["lines"], "quantity") - _sum(o["lines"], "cancelled")
    ]
    delivered = [o for o in placed if o["delivered_at"] is not None]
    on_time = [
        o
        for o in delivered
        if p.day(o["delivered_at"])
        <= (o["scheduled"] or p.day(o["placed_at"]) + timedelta(days=PROMISE_DAYS))
    ]
    return {
        "fulfillment": {
            "orders": len(live),
            "fulfilled": len(fulfilled),
            "rate": _rate(len(fulfilled), len(live)),
        },
        "on_time_delivery": {
            "delivered": len(delivered),
            "on_time": len(on_time),
            "rate": _rate(len(on_time), len(delivered)),
        },
    }


def expected_reasons(orders: list[dict], p: Period) -> list[dict]:
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    for o in orders:
        if p.holds(o["cancelled_at"]):
            row = acc[(o["reason"], o["currency"])]
            row[0] += 1
            row[3] += o["refunded"]
        for reason, _whole, line_id, units, at in o["cancels"]:
            if p.holds(at):
                row = acc[(reason, o["currency"])]
                row[1] += units
                row[2] += units * o["lines"][line_id]["price"]
    return [
        {
            "reason": reason,
            "currency": c,
            "cancelled_orders": n,
            "cancelled_units": units,
            "cancelled_amount": _cents(amount, c),
            "_refunded": refunded,
        }
        for (reason, c), (n, units, amount, refunded) in sorted(acc.items())
    ]


def expected_cancellations(orders: list[dict], p: Period) -> dict:
    reasons = expected_reasons(orders, p)
    by_currency: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    for r in reasons:
        row = by_currency[r["currency"]]
        row[0] += r["cancelled_orders"]
        row[1] += r["cancelled_units"]
        row[2] += Decimal(r["cancelled_amount"])
        row[3] += r["_refunded"]
    reviews = [
        q
        for o in orders
        for q in o["requests"].values()
        if "reviewed" in q and p.holds(q["reviewed"])
    ]
    seconds = [(q["reviewed"] - q["at"]).total_seconds() for q in reviews]
    return {
        "cancelled_orders": sum(r[0] for r in by_currency.values()),
        "by_currency": [
            {
                "currency": c,
                "cancelled_orders": n,
                "cancelled_units": units,
                "cancelled_amount": _cents(amount, c),
                "refunded": _cents(refunded, c),
            }
            for c, (n, units, amount, refunded) in sorted(by_currency.items())
        ],
        "by_reason": [{k: v for k, v in r.items() if k != "_refunded"} for r in reasons],
        "requests_reviewed": len(reviews),
        "requests_approved": sum(1 for q in reviews if q["decision"] == "approved"),
        "average_review_seconds": round(sum(seconds) / len(seconds), 3) if seconds else None,
    }


def expected_statuses(orders: list[dict], p: Period) -> list[dict]:
    counts = defaultdict(int)
    for o in orders:
        if p.holds(o["placed_at"]):
            counts[status_of(o)] += 1
    return [{"status": s, "orders": counts[s]} for s in STATUSES]


def expected_reorder(stock: list[tuple[str, str, int, int, int | None, int | None]]) -> list:
    rows = []
    for sku, location, on_hand, point, quantity, max_stock in stock:
        if on_hand > point:
            continue
        suggested = quantity if quantity is not None else max(2 * point, (max_stock or 0) - on_hand)
        rows.append(
            {
                "sku": sku,
                "location": location,
                "on_hand": on_hand,
                "reserved": 0,
                "available": on_hand,
                "reorder_point": point,
                "reorder_quantity": quantity,
                "max_stock": max_stock,
                "low_stock": True,
                "suggested_reorder_quantity": suggested,
            }
        )
    return sorted(rows, key=lambda r: (r["available"] - r["reorder_point"], r["sku"]))
