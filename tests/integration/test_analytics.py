"""Analytics equal a recomputation from the raw event feed, to the cent, on a generated history
of 5,000+ orders (several currencies, channels, cancellations, captures, refunds, shipments,
deliveries, cancellation reviews) placed in a year no other test writes to."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID, uuid4

import pytest

import domain.order.events as order_events
from domain.ids import payment_stream
from domain.money import Money
from domain.order.events import OrderCancelled, OrderConfirmed, OrderPlaced
from domain.order.values import Address, OrderLine, PaymentRef
from domain.payment.events import PaymentAuthorized, PaymentCaptured, RefundSucceeded
from eventstore.recorded import EventMeta
from projections.analytics_common import DateRange
from projections.analytics_fulfillment import (
    cancellation_statistics,
    fulfillment_rate,
    on_time_delivery_rate,
)
from projections.analytics_products import product_sales, top_products
from projections.analytics_sales import average_order_value, sales_by_day

ORDERS = 5_200
START = datetime(2031, 3, 1, tzinfo=UTC)
DAYS = 20
PERIOD = DateRange(date(2031, 1, 1), date(2031, 12, 31))
CURRENCIES = {"USD": Decimal("0.01"), "EUR": Decimal("0.01"), "JPY": Decimal("1")}
CHANNELS = ("direct", "shopify", "amazon", "ebay")
CUSTOMERS = [uuid4() for _ in range(300)]  # repeat customers, as in life
ADDRESS = Address(name="A", line1="L", city="C", postal_code="P", country="US")
HAS_SHIPPING = hasattr(order_events, "LinesShipped") and hasattr(order_events, "LinesDelivered")
HAS_REVIEWS = hasattr(order_events, "CancellationRequested")


class History:
    """Builds stored events for many streams with their own times, inserted in big batches."""

    def __init__(self, store):
        self.store = store
        self.versions: dict[UUID, int] = defaultdict(int)
        self.pending = []

    def add(self, stream_id: UUID, event, at: datetime) -> None:
        self.versions[stream_id] += 1
        meta = EventMeta(occurred_at=at, actor="gen", correlation_id="c", causation_id="c")
        self.pending.append(
            self.store.mapper.to_stored(stream_id, self.versions[stream_id], event, meta)
        )
        # The library's recorder sends a batch in one pipeline without reading results; a few
        # thousand rows can fill both socket buffers (seen over Unix sockets), so stay small.
        if len(self.pending) >= 500:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.recorder.insert_events(self.pending)
            self.pending = []


def _order(rng: random.Random, products: list[tuple[UUID, str]], at: datetime):
    currency = rng.choice(list(CURRENCIES))
    step = CURRENCIES[currency]
    lines = []
    for i in range(rng.randint(1, 3)):
        product_id, sku = rng.choice(products)
        unit = (Decimal(rng.randint(100, 20_000)) * Decimal("0.01")).quantize(step)
        qty = rng.randint(1, 4)
        lines.append(
            OrderLine(
                line_id=f"l{i}",
                sku=sku,
                product_id=product_id,
                quantity=qty,
                unit_price=Money(amount=unit, currency=currency),
                total=Money(amount=unit * qty, currency=currency),
            )
        )
    subtotal = sum((line.total.amount for line in lines), Decimal(0))
    shipping = Decimal(rng.choice([0, 5])).quantize(step)
    zero = Money(amount=Decimal(0).quantize(step), currency=currency)
    scheduled = (at + timedelta(days=rng.randint(1, 6))).date() if rng.random() < 0.3 else None
    return OrderPlaced(
        order_number=rng.randint(1, 10**9),
        customer_id=rng.choice(CUSTOMERS),
        channel=rng.choice(CHANNELS),
        currency=currency,
        lines=lines,
        shipping_address=ADDRESS,
        payment=PaymentRef(token="tok"),
        scheduled_delivery=scheduled,
        subtotal=Money(amount=subtotal, currency=currency),
        tax=zero,
        shipping=Money(amount=shipping, currency=currency),
        discount=zero,
        total=Money(amount=subtotal + shipping, currency=currency),
        placed_at=at,
        placed_by="gen",
    )


def _generate(store, rng: random.Random) -> None:
    products = [(uuid4(), f"AN-{uuid4().hex[:8]}") for _ in range(40)]
    h = History(store)
    for _ in range(ORDERS):
        at = START + timedelta(minutes=rng.randint(0, DAYS * 24 * 60 - 1))
        order_id = uuid4()
        placed = _order(rng, products, at)
        total, currency = placed.total.amount, placed.currency
        h.add(order_id, placed, at)
        pay = payment_stream(order_id)
        h.add(
            pay,
            PaymentAuthorized(
                order_id=order_id,
                amount=total,
                currency=currency,
                gateway="sandbox",
                gateway_reference="g",
                idempotency_key=str(uuid4()),
            ),
            at + timedelta(seconds=1),
        )
        fate = rng.random()
        t = at + timedelta(minutes=5)
        if fate < 0.15:  # cancelled, perhaps after a request and a review, perhaps refunded
            if HAS_REVIEWS and rng.random() < 0.7:
                request_id = uuid4()
                h.add(
                    order_id,
                    order_events.CancellationRequested(
                        request_id=request_id, reason="changed_mind", requested_by="c"
                    ),
                    t,
                )
                t += timedelta(seconds=rng.randint(60, 86_400))
                h.add(
                    order_id,
                    order_events.CancellationReviewed(
                        request_id=request_id, decision="approved", reviewed_by="admin"
                    ),
                    t,
                )
            if rng.random() < 0.5:
                h.add(
                    pay, PaymentCaptured(capture_id=uuid4(), amount=total, gateway_reference="g"), t
                )
                h.add(
                    pay,
                    RefundSucceeded(
                        refund_id=uuid4(),
                        amount=total
                        if rng.random() < 0.7
                        else (total / 2).quantize(CURRENCIES[currency]),
                        reason="cancelled",
                        gateway_reference="g",
                    ),
                    t + timedelta(seconds=2),
                )
            h.add(
                order_id,
                OrderCancelled(reason="customer_request", cancelled_at=t, cancelled_by="a"),
                t + timedelta(seconds=3),
            )
            continue
        h.add(order_id, OrderConfirmed(allocations=[], confirmed_at=t), t)
        if fate < 0.85:
            h.add(pay, PaymentCaptured(capture_id=uuid4(), amount=total, gateway_reference="g"), t)
        if fate < 0.05:
            h.add(
                pay,
                RefundSucceeded(
                    refund_id=uuid4(),
                    amount=(total / 3).quantize(CURRENCIES[currency], ROUND_HALF_UP),
                    reason="goodwill",
                    gateway_reference="g",
                ),
                t,
            )
        if HAS_SHIPPING and fate < 0.8:
            lines = [{"line_id": line.line_id, "quantity": line.quantity} for line in placed.lines]
            shipment = uuid4()
            partial = rng.random() < 0.1
            shipped = lines[:-1] if partial and len(lines) > 1 else lines
            t += timedelta(hours=rng.randint(1, 48))
            h.add(order_id, order_events.LinesShipped(shipment_id=shipment, lines=shipped), t)
            if rng.random() < 0.8:
                t += timedelta(hours=rng.randint(1, 24 * 8))
                h.add(order_id, order_events.LinesDelivered(shipment_id=shipment, lines=shipped), t)
    h.flush()


# ---- the recomputation, straight from the raw feed ----------------------------------------


def _recompute(store) -> dict:
    orders: dict[UUID, dict] = {}
    pay_to_order: dict[UUID, UUID] = {}
    requests: dict[str, dict] = {}
    after = 0
    while True:
        page = store.read_all(after=after, limit=2000)
        if not page:
            break
        after = page[-1].position
        for e in page:
            d = e.data
            if e.type == "order.OrderPlaced":
                placed_at = datetime.fromisoformat(d["placed_at"])
                if placed_at.year != 2031:
                    continue
                orders[e.stream_id] = {
                    "day": placed_at.date(),
                    "placed_at": placed_at,
                    "channel": d["channel"],
                    "currency": d["currency"],
                    "total": Decimal(d["total"]["amount"]),
                    "lines": {line["line_id"]: line for line in d["lines"]},
                    "units": sum(line["quantity"] for line in d["lines"]),
                    "shipped": 0,
                    "delivered": 0,
                    "shipped_at": None,
                    "delivered_at": None,
                    "promised": date.fromisoformat(d["scheduled_delivery"])
                    if d.get("scheduled_delivery")
                    else placed_at.date() + timedelta(days=5),
                    "cancelled_at": None,
                    "captured": Decimal(0),
                    "refunded": Decimal(0),
                }
            elif e.type == "payment.PaymentAuthorized":
                pay_to_order[e.stream_id] = UUID(d["order_id"])
            elif e.stream_type == "payment" and pay_to_order.get(e.stream_id) in orders:
                o = orders[pay_to_order[e.stream_id]]
                if e.name == "PaymentCaptured":
                    o["captured"] += Decimal(d["amount"])
                elif e.name == "RefundSucceeded":
                    o["refunded"] += Decimal(d["amount"])
            elif e.stream_id in orders:
                o = orders[e.stream_id]
                if e.name == "OrderCancelled":
                    o["cancelled_at"] = e.meta.occurred_at
                elif e.name == "LinesShipped":
                    o["shipped"] += sum(x["quantity"] for x in d["lines"])
                    if o["shipped"] >= o["units"] and o["shipped_at"] is None:
                        o["shipped_at"] = e.meta.occurred_at
                elif e.name == "LinesDelivered":
                    o["delivered"] += sum(x["quantity"] for x in d["lines"])
                    if o["delivered"] >= o["units"] and o["delivered_at"] is None:
                        o["delivered_at"] = e.meta.occurred_at
                elif e.name == "CancellationRequested":
                    requests[d["request_id"]] = {"at": e.meta.occurred_at}
                elif e.name == "CancellationReviewed":
                    requests[d["request_id"]]["reviewed"] = e.meta.occurred_at
    return {"orders": orders, "requests": requests}


def _cents(value: Decimal, currency: str) -> str:
    return str(value.quantize(CURRENCIES[currency], ROUND_HALF_UP))


@pytest.fixture(scope="module")
def facts(container):
    _generate(container.store, random.Random(2031))
    container.runner.catch_up(["analytics_orders"], timeout_s=300)
    return _recompute(container.store)


def test_the_history_is_large_enough(facts):
    assert len(facts["orders"]) >= 5_000


def test_sales_by_day_channel_and_currency_equal_the_recomputation(container, facts):
    expected: dict[tuple, dict] = {}
    for o in facts["orders"].values():
        key = (o["day"].isoformat(), o["channel"], o["currency"])
        row = expected.setdefault(
            key,
            {
                "orders": 0,
                "gross": Decimal(0),
                "net": Decimal(0),
                "cap": Decimal(0),
                "ref": Decimal(0),
                "merchandise": Decimal(0),
                "cancelled": Decimal(0),
            },
        )
        merchandise = sum(
            (x["quantity"] * Decimal(x["unit_price"]["amount"]) for x in o["lines"].values()),
            Decimal(0),
        )
        row["orders"] += 1
        row["gross"] += o["total"]
        row["net"] += o["total"] if o["cancelled_at"] is None else 0
        row["merchandise"] += merchandise
        row["cancelled"] += merchandise if o["cancelled_at"] is not None else 0
        row["cap"] += o["captured"]
        row["ref"] += o["refunded"]
    got = {(r["day"], r["channel"], r["currency"]): r for r in sales_by_day(container.pool, PERIOD)}
    assert set(got) == set(expected)
    for key, want in expected.items():
        cur = key[2]
        r = got[key]
        assert r["orders"] == want["orders"]
        assert r["gross"] == _cents(want["gross"], cur)
        assert r["net_sales"] == _cents(want["net"], cur)
        assert r["captured"] == _cents(want["cap"], cur)
        assert r["refunded"] == _cents(want["ref"], cur)
        assert r["net_captured"] == _cents(want["cap"] - want["ref"], cur)
        # an order cancelled whole cancels all its merchandise: nothing of it is net revenue
        assert r["gross_revenue"] == _cents(want["merchandise"], cur)
        assert r["cancelled_amount"] == _cents(want["cancelled"], cur)
        net = want["merchandise"] - want["cancelled"]
        assert r["net_revenue"] == r["revenue"] == _cents(net, cur)


def test_a_date_range_filter_keeps_only_its_days(container, facts):
    one_day = DateRange(START.date() + timedelta(days=3), START.date() + timedelta(days=3))
    rows = sales_by_day(container.pool, one_day)
    assert {r["day"] for r in rows} == {one_day.start.isoformat()}
    want = sum(1 for o in facts["orders"].values() if o["day"] == one_day.start)
    assert sum(r["orders"] for r in rows) == want


def test_average_order_value_per_currency_equals_the_recomputation(container, facts):
    totals: dict[str, list[Decimal]] = defaultdict(list)
    placed: dict[str, int] = defaultdict(int)
    for o in facts["orders"].values():
        placed[o["currency"]] += 1
        if o["cancelled_at"] is None:
            totals[o["currency"]].append(o["total"])
    got = {r["currency"]: r for r in average_order_value(container.pool, PERIOD)}
    assert set(got) == set(totals)
    for cur, values in totals.items():
        assert got[cur]["orders"] == placed[cur]
        assert got[cur]["cancelled_orders"] == placed[cur] - len(values)
        assert got[cur]["average_order_value"] == _cents(sum(values) / len(values), cur)


def test_units_and_revenue_per_product_and_the_top_products(container, facts):
    # (units ordered, units not cancelled, their net revenue)
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for o in facts["orders"].values():
        for line in o["lines"].values():
            row = expected[(line["sku"], o["currency"])]
            row[0] += line["quantity"]
            if o["cancelled_at"] is None:
                row[1] += line["quantity"]
                row[2] += line["quantity"] * Decimal(line["unit_price"]["amount"])
    got = {(r["sku"], r["currency"]): r for r in product_sales(container.pool, PERIOD)}
    assert set(got) == set(expected)
    for (sku, cur), (units, net_units, revenue) in expected.items():
        assert got[(sku, cur)]["units"] == units
        assert got[(sku, cur)]["net_units"] == net_units
        assert got[(sku, cur)]["net_revenue"] == _cents(revenue, cur)
        assert got[(sku, cur)]["revenue"] == _cents(revenue, cur)
    top = top_products(container.pool, PERIOD, by="revenue", limit=3)
    for cur in CURRENCIES:
        ranked = sorted(
            ((rev, sku) for (sku, c), (_, _, rev) in expected.items() if c == cur), reverse=True
        )
        assert [r["sku"] for r in top if r["currency"] == cur] == [s for _, s in ranked[:3]]


def test_fulfillment_and_on_time_rates_equal_the_recomputation(container, facts):
    live = [o for o in facts["orders"].values() if o["cancelled_at"] is None]
    fulfilled = sum(1 for o in live if o["shipped_at"] is not None)
    got = fulfillment_rate(container.pool, PERIOD)
    assert (got["orders"], got["fulfilled"]) == (len(live), fulfilled)
    delivered = [o for o in facts["orders"].values() if o["delivered_at"] is not None]
    on_time = sum(1 for o in delivered if o["delivered_at"].astimezone(UTC).date() <= o["promised"])
    got = on_time_delivery_rate(container.pool, PERIOD)
    assert (got["delivered"], got["on_time"]) == (len(delivered), on_time)
    if HAS_SHIPPING:
        assert 0 < got["on_time"] < got["delivered"]


def test_cancellation_statistics_equal_the_recomputation(container, facts):
    cancelled = [o for o in facts["orders"].values() if o["cancelled_at"] is not None]
    got = cancellation_statistics(container.pool, PERIOD)
    assert got["cancelled_orders"] == len(cancelled)
    for row in got["by_currency"]:
        refunded = sum(
            (o["refunded"] for o in cancelled if o["currency"] == row["currency"]), Decimal(0)
        )
        assert row["refunded"] == _cents(refunded, row["currency"])
    reviews = [r for r in facts["requests"].values() if "reviewed" in r]
    assert got["requests_reviewed"] == len(reviews)
    if reviews:
        mean = sum((r["reviewed"] - r["at"]).total_seconds() for r in reviews) / len(reviews)
        assert got["average_review_seconds"] == pytest.approx(mean, abs=0.01)
