"""The merchant ledger equals a recomputation, in plain Python, from the events it reads
(hypothesis writes histories of rate changes, deliveries and refunds straight to the store);
the merchants, ledger and vendors views rebuilt from position 0 equal the live ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composition.bootstrap import Container
from domain.dropship.events import DropshipRequested, RequestedLine
from domain.location.events import LocationRegistered
from domain.merchant.events import CommissionChanged, MerchantRegistered
from domain.money import Money
from domain.order.events import LinesDelivered, LinesReturned, OrderPlaced
from domain.payment.events import RefundRequested, RefundSucceeded
from domain.product.events import ProductCreated
from domain.returns.events import ReturnRefunded
from domain.vendor.events import VendorRegistered
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend
from projections.base import live_schema
from projections.merchant_ledger import ledger
from tests.conftest import container_of_its_own
from tests.integration.test_projection_rebuild import snapshot
from tests.tables import differences

VIEWS = ("merchants", "merchant_ledger", "vendors")
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "1",
           "country": "US"}  # fmt: skip


class History:
    """Appends one example's events, each stream at its next version, one minute apart."""

    def __init__(self, store):  # noqa: ANN001
        self.store, self.versions, self.at = store, {}, T0

    def add(self, stream: UUID, *events) -> None:  # noqa: ANN002
        self.at += timedelta(minutes=1)
        version = self.versions.get(stream, 0)
        meta = EventMeta(self.at, "ledger-test", "c", "c")
        self.store.append([StreamAppend(stream, version, list(events))], meta)
        self.versions[stream] = version + len(events)


@pytest.fixture(scope="module")
def container(database_url: str) -> Iterator[Container]:
    """A database of this module's own: its histories are appended as bare events (orders no
    saga took on, refunds of returns never requested), which the session's other views and
    managers must never see."""
    with container_of_its_own(database_url, "ecom_ledger") as c:
        yield c


def placed(currency: str, lines: list[tuple[str, UUID, Decimal, int]]) -> OrderPlaced:
    zero = Money.zero(currency)
    return OrderPlaced.model_validate(
        {
            "order_number": 1,
            "customer_id": str(uuid4()),
            "currency": currency,
            "lines": [
                {
                    "line_id": line_id,
                    "sku": f"S-{line_id}",
                    "product_id": str(product),
                    "quantity": q,
                    "unit_price": Money.of(unit, currency).as_json(),
                    "total": Money.of(unit * q, currency).as_json(),
                }  # fmt: skip
                for line_id, product, unit, q in lines
            ],
            "shipping_address": ADDRESS,
            "payment": {"token": "tok_visa"},
            **{k: zero.as_json() for k in ("subtotal", "tax", "shipping", "discount", "total")},
            "placed_at": T0.isoformat(),
            "placed_by": "ledger-test",
        }
    )


#: The kinds of entries the examples' expected ledgers held (a later test checks them).
COVERED: set[str] = set()

step = st.one_of(
    st.tuples(st.just("rate"), st.decimals(0, 100, places=2)),
    st.tuples(
        st.sampled_from(["deliver", "return", "refund"]), st.integers(0, 2), st.integers(1, 3)
    ),
)


def expected(events, merchant: UUID) -> list[tuple]:
    """The ledger by its definition, folded over the events in log order."""
    rate: dict[UUID, Decimal] = {}
    owner: dict[UUID, UUID] = {}
    lines: dict[tuple, dict] = {}
    pending: dict[UUID, tuple] = {}
    out = []

    def entry(key, kind, units, r):  # noqa: ANN001, ANN202
        line = lines[key]
        unit_of = Decimal(1) if line["currency"] == "JPY" else Decimal("0.01")
        gross = line["unit"] * units
        commission = (gross * r / 100).quantize(unit_of, rounding=ROUND_HALF_UP)
        sign = 1 if kind == "delivery" else -1
        if line["merchant"] == merchant:
            out.append((kind, key[1], units, sign * gross, sign * commission,
                        sign * (gross - commission)))  # fmt: skip

    def reverse(order_id, units_by_line):  # noqa: ANN001, ANN202
        for line_id, q in units_by_line:
            line = lines.get((order_id, line_id))
            if line is None or line["rate"] is None:
                continue
            units = min(q, line["delivered"] - line["reversed"])
            if units > 0:
                entry((order_id, line_id), "refund", units, line["rate"])
                line["reversed"] += units

    for e in sorted(events, key=lambda e: e.position):
        d = e.data
        match e.type:
            case "merchant.MerchantRegistered":
                rate[e.stream_id] = Decimal(d["commission_percent"])
            case "merchant.CommissionChanged":
                rate[e.stream_id] = Decimal(d["new_percent"])
            case "product.ProductCreated" if d.get("merchant_id"):
                owner[e.stream_id] = UUID(d["merchant_id"])
            case "order.OrderPlaced":
                for x in d["lines"]:
                    m = owner.get(UUID(x["product_id"]))
                    if m is not None:
                        lines[(e.stream_id, x["line_id"])] = {
                            "merchant": m, "unit": Decimal(x["unit_price"]["amount"]),
                            "currency": d["currency"], "rate": None, "delivered": 0, "reversed": 0,
                        }  # fmt: skip
            case "order.LinesDelivered":
                for x in d["lines"]:
                    line = lines.get((e.stream_id, x["line_id"]))
                    if line is not None:
                        line["rate"] = rate[line["merchant"]]
                        entry((e.stream_id, x["line_id"]), "delivery", x["quantity"], line["rate"])
                        line["delivered"] += x["quantity"]
            case "order.LinesReturned":
                pending[UUID(d["return_id"])] = (e.stream_id, d["lines"])
            case "return.ReturnRefunded":
                order_id, returned = pending.pop(e.stream_id)
                reverse(order_id, [(x["line_id"], x["quantity"]) for x in returned])
            case "payment.RefundRequested" if d.get("lines"):
                pending[UUID(d["refund_id"])] = (None, d["lines"])
            case "payment.RefundSucceeded":
                _none, named = pending.pop(UUID(d["refund_id"]))
                reverse(UUID(d["order_id"]), [(x["line_id"], x["quantity"]) for x in named])
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    currency=st.sampled_from(["USD", "JPY"]),
    first_rate=st.decimals(0, 100, places=2),
    prices=st.lists(st.integers(1, 99_999), min_size=3, max_size=3),
    steps=st.lists(step, min_size=1, max_size=10),
)
def test_the_ledger_equals_its_recomputation_from_the_events(
    container, currency, first_rate, prices, steps
):
    store, h = container.store, History(container.store)
    merchant, other = uuid4(), uuid4()
    for m in (merchant, other):
        h.add(m, MerchantRegistered(merchant_id=m, name="M", email="m@x.example", country="DE",
                                    commission_percent=first_rate, registered_by="t"))  # fmt: skip
    owners = [merchant, other, None]  # a line of ours, one of another merchant's
    products = [uuid4() for _ in owners]
    for product, m in zip(products, owners, strict=True):
        h.add(product, ProductCreated(product_id=product, sku=f"L-{product.hex[:10]}", name="P",
                                      merchant_id=m))  # fmt: skip
    unit_of = Decimal(1) if currency == "JPY" else Decimal("0.01")
    units = [Decimal(p) * unit_of for p in prices]
    order = uuid4()
    h.add(order, placed(currency, [(str(i + 1), products[i], units[i], 3) for i in range(3)]))
    payment, current = uuid4(), first_rate
    for s in [("deliver", 0, 1), *steps]:  # the merchant's line delivered at least once
        match s:
            case ("rate", percent):
                if percent != current:
                    h.add(merchant, CommissionChanged(old_percent=current, new_percent=percent,
                                                      reason="r", changed_by="t"))  # fmt: skip
                    current = percent
            case ("deliver", i, q):
                units_of = [{"line_id": str(i + 1), "quantity": q}]
                h.add(order, LinesDelivered(shipment_id=uuid4(), lines=units_of))
            case ("return", i, q):
                ret = uuid4()
                h.add(
                    order,
                    LinesReturned(return_id=ret, lines=[{"line_id": str(i + 1), "quantity": q}]),
                )
                h.add(ret, ReturnRefunded(order_id=order, refund_id=uuid4(), amount=Decimal(1)))
            case ("refund", i, q):
                refund = uuid4()
                units_of = [{"line_id": str(i + 1), "quantity": q}]
                h.add(payment, RefundRequested(refund_id=refund, amount=Decimal(1), reason="r",
                                               deferred=True, lines=units_of))  # fmt: skip
                h.add(payment, RefundSucceeded(refund_id=refund, amount=Decimal(1), reason="r",
                                               gateway_reference="g", order_id=order))  # fmt: skip
    container.runner.catch_up(["merchant_ledger"])
    events = [e for stream in h.versions for e in store.load_with_positions(stream)]
    want = expected(events, merchant)
    COVERED.update(w[0] for w in want)
    got = ledger(container.pool, merchant, None, None)
    assert [
        (e["kind"], e["line_id"], e["quantity"], e["gross"], e["commission"], e["net"])
        for e in got["entries"]
    ] == want
    totals = {t["currency"]: (t["gross"], t["commission"], t["net"]) for t in got["totals"]}
    if want:
        sums = tuple(sum(w[k] for w in want) for k in (3, 4, 5))
        assert totals == {currency: sums}
    else:
        assert totals == {}


def test_the_examples_covered_deliveries_and_refunds():
    assert COVERED == {"delivery", "refund"}


def test_a_period_selects_entries_by_their_time(container):
    h, merchant, product, order = History(container.store), uuid4(), uuid4(), uuid4()
    h.add(merchant, MerchantRegistered(merchant_id=merchant, name="M", email="m@x.example",
                                       country="DE", commission_percent=Decimal(10),
                                       registered_by="t"))  # fmt: skip
    h.add(product, ProductCreated(product_id=product, sku=f"P-{product.hex[:10]}", name="P",
                                  merchant_id=merchant))  # fmt: skip
    h.add(order, placed("USD", [("1", product, Decimal("10.00"), 5)]))
    h.add(order, LinesDelivered(shipment_id=uuid4(), lines=[{"line_id": "1", "quantity": 1}]))
    middle = h.at + timedelta(seconds=30)
    h.add(order, LinesDelivered(shipment_id=uuid4(), lines=[{"line_id": "1", "quantity": 2}]))
    container.runner.catch_up(["merchant_ledger"])
    early = ledger(container.pool, merchant, None, middle)
    late = ledger(container.pool, merchant, middle, None)
    assert [e["quantity"] for e in early["entries"]] == [1]
    assert [(t["gross"], t["commission"], t["net"]) for t in late["totals"]] == [
        (Decimal("20.00"), Decimal("2.00"), Decimal("18.00"))
    ]


def test_a_delivery_is_charged_at_the_rate_in_force_when_recorded_not_at_placement(container):
    h, merchant, product, order = History(container.store), uuid4(), uuid4(), uuid4()
    h.add(merchant, MerchantRegistered(merchant_id=merchant, name="M", email="m@x.example",
                                       country="DE", commission_percent=Decimal(10),
                                       registered_by="t"))  # fmt: skip
    h.add(product, ProductCreated(product_id=product, sku=f"R-{product.hex[:10]}", name="P",
                                  merchant_id=merchant))  # fmt: skip
    h.add(order, placed("USD", [("1", product, Decimal("10.00"), 2)]))  # placed at 10 %
    h.add(merchant, CommissionChanged(old_percent=Decimal(10), new_percent=Decimal(25),
                                      reason="r", changed_by="t"))  # fmt: skip
    h.add(order, LinesDelivered(shipment_id=uuid4(), lines=[{"line_id": "1", "quantity": 2}]))
    h.add(merchant, CommissionChanged(old_percent=Decimal(25), new_percent=Decimal(5),
                                      reason="r", changed_by="t"))  # fmt: skip
    container.runner.catch_up(["merchant_ledger"])
    [entry] = ledger(container.pool, merchant, None, None)["entries"]
    assert (entry["rate"], entry["gross"], entry["commission"], entry["net"]) == (
        Decimal(25), Decimal("20.00"), Decimal("5.00"), Decimal("15.00"))  # fmt: skip


@pytest.fixture(scope="module")
def seeded_views(container):
    """Rows of our own in each view: a merchant and its rate change, a vendor, its dropship
    location and a request."""
    h, merchant, vendor = History(container.store), uuid4(), uuid4()
    h.add(merchant, MerchantRegistered(merchant_id=merchant, name="M", email="m@x.example",
                                       country="DE", commission_percent=Decimal(7),
                                       registered_by="t"))  # fmt: skip
    h.add(merchant, CommissionChanged(old_percent=Decimal(7), new_percent=Decimal(9), reason="r",
                                      changed_by="t"))  # fmt: skip
    h.add(vendor, VendorRegistered(vendor_id=vendor, name="V", email="v@x.example",
                                   lead_time_days=2, registered_by="t"))  # fmt: skip
    code = f"DS-{uuid4().hex[:8]}"
    h.add(uuid4(), LocationRegistered(code=code, name=code, type="dropship", priority=9,
                                      vendor_id=vendor))  # fmt: skip
    h.add(uuid4(), DropshipRequested(order_id=uuid4(), plan_id=uuid4(), vendor_id=vendor,
                                     location=code, lines=[RequestedLine(line_id="1", sku="A",
                                                                         quantity=1)],
                                     requested_by="t"))  # fmt: skip
    return container


@pytest.mark.parametrize("name", VIEWS)
def test_each_view_rebuilt_equals_the_live_one(seeded_views, name):
    runner = seeded_views.runner
    runner.catch_up([name])
    before = snapshot(seeded_views.pool, live_schema(name))
    assert any(before.values()), f"{name} has no rows to compare"
    runner.rebuild(name)
    after = snapshot(seeded_views.pool, live_schema(name))
    assert after.keys() == before.keys()
    for table in before:
        problem = differences(after[table], before[table])
        assert problem is None, f"{name}.{table} differs after a rebuild: {problem}"
