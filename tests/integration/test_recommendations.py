"""Recommendations on PostgreSQL, in a database of their own (the orders here are appended as
events, without the managers that would take them up, so no other test's managers may see
them): over random order histories (hypothesis) no recommendation is ever the product asked
about, an inactive or out-of-stock product, or (for a customer) one they bought; bought-together
counts and trending units equal a recomputation from the histories; and the recommendations
and reviews views rebuilt from the log equal the live ones row for row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import permutations
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from commands.context import CommandContext
from composition.bootstrap import Container, build
from composition.settings import Settings
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.money import Money
from domain.order.events import OrderCancelled, OrderConfirmed, OrderPlaced
from domain.order.values import Address, OrderLine, PaymentRef
from domain.product.commands import ChangeLifecycle
from domain.relationship.commands import RelateProducts
from domain.review import commands as review
from eventstore.store import StreamAppend
from projections import recommendations as rec
from projections.base import live_schema
from projections.reviews import NAME as REVIEWS
from tests.factories import active_product, send
from tests.integration.test_projection_rebuild import snapshot
from tests.tables import differences

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
PRICE = Money.of("10.00", "USD")
#: Product 4 is discontinued, product 5 has no stock: neither may ever be recommended.
INACTIVE, NO_STOCK = 4, 5
FATES = ("placed", "confirmed", "cancelled", "confirmed_then_cancelled")


@dataclass
class Shop:
    container: Container
    products: list[tuple[UUID, str]]
    #: Every order appended so far: (customer, {product index: units}, fate).
    history: list[tuple[UUID, dict[int, int], str]] = field(default_factory=list)

    @property
    def ids(self) -> list[UUID]:
        return [p for p, _sku in self.products]

    def __repr__(self) -> str:  # hypothesis prints it with each failing example
        return f"Shop({len(self.history)} orders)"

    def excluded(self) -> set[UUID]:
        return {self.ids[INACTIVE], self.ids[NO_STOCK]}


@pytest.fixture(scope="module")
def shop(database_url: str) -> Iterator[Shop]:
    name = f"ecom_recs_{uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    c = build(Settings(database_url=url, pool_size=4), url=url)
    try:
        c.migrate()
        ctx = CommandContext.new("merchant")
        send(c, RegisterLocation(code="WH", name="WH", type="warehouse", priority=1), ctx)
        products = [active_product(c) for _ in range(6)]
        for _pid, sku in products[:NO_STOCK]:
            send(c, ReceiveStock(sku=sku, location="WH", quantity=5), ctx)
        send(c, ChangeLifecycle(product_id=products[INACTIVE][0], status="discontinued"), ctx)
        ids = [p for p, _ in products]
        for a, kind, b in [(0, "cross_sell", 1), (0, "accessory", 4), (0, "similar", 5),
                           (1, "similar", 0), (2, "up_sell", 3), (0, "similar", 1)]:  # fmt: skip
            send(c, RelateProducts(product_id=ids[a], type=kind, related_product_id=ids[b]), ctx)
        c.runner.catch_up()  # the catalog and stock the queries join
        yield Shop(c, products)
    finally:
        c.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def append_order(shop: Shop, customer: UUID, units: dict[int, int], fate: str) -> None:
    now = datetime.now(UTC)
    lines = [
        OrderLine(
            line_id=f"L{i}",
            sku=shop.products[i][1],
            product_id=shop.ids[i],
            quantity=n,
            unit_price=PRICE,
            total=Money.of(10 * n, "USD"),
        )  # fmt: skip
        for i, n in units.items()
    ]
    zero = Money.of(0, "USD")
    events = [
        OrderPlaced(
            order_number=1,
            customer_id=customer,
            currency="USD",
            lines=lines,
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
            subtotal=zero,
            tax=zero,
            shipping=zero,
            discount=zero,
            total=zero,
            placed_at=now,
            placed_by="test",
        )  # fmt: skip
    ]
    if fate.startswith("confirmed"):
        events.append(OrderConfirmed(allocations=[], confirmed_at=now))
    if fate.endswith("cancelled"):
        events.append(OrderCancelled(reason="customer_request", cancelled_at=now, cancelled_by="t"))
    meta = CommandContext.new("test", now=now).meta()
    shop.container.store.append([StreamAppend(uuid4(), 0, events)], meta)
    shop.history.append((customer, units, fate))


def pairs_recomputed(shop: Shop) -> Counter[tuple[UUID, UUID]]:
    pairs = Counter[tuple[UUID, UUID]]()
    for _customer, units, fate in shop.history:
        if fate == "confirmed":
            pairs.update((shop.ids[a], shop.ids[b]) for a, b in permutations(units, 2))
    return pairs


def units_recomputed(shop: Shop) -> Counter[UUID]:
    units = Counter[UUID]()
    for _customer, lines, fate in shop.history:
        if not fate.endswith("cancelled"):
            units.update({shop.ids[i]: n for i, n in lines.items()})
    return units


def pairs_in_view(shop: Shop) -> Counter[tuple[UUID, UUID]]:
    query = sql.SQL("SELECT product_id, other_id, orders FROM {}.pairs").format(
        sql.Identifier(live_schema(rec.NAME))
    )
    with shop.container.pool.connection() as conn:
        return Counter({(a, b): n for a, b, n in conn.execute(query)})


ORDERS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.dictionaries(st.integers(0, 5), st.integers(1, 3), min_size=1, max_size=4),
        st.sampled_from(FATES),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(orders=ORDERS)
def test_recommendations_never_include_what_they_must_not(shop: Shop, orders):
    customers = [uuid4() for _ in range(3)]
    for who, units, fate in orders:
        append_order(shop, customers[who], units, fate)
    shop.container.runner.catch_up([rec.NAME])
    pool, excluded = shop.container.pool, shop.excluded()

    assert pairs_in_view(shop) == +pairs_recomputed(shop)
    trending = {r["product_id"]: r["score"] for r in rec.trending(pool, 100)}
    units = units_recomputed(shop)
    assert trending == {p: n for p, n in units.items() if n > 0 and p not in excluded}
    for product in shop.ids:
        for kind in (rec.related, rec.bought_together):
            got = {r["product_id"] for r in kind(pool, product, 100)}
            assert not got & (excluded | {product})
        together = {r["product_id"]: r["score"] for r in rec.bought_together(pool, product, 100)}
        pairs = pairs_recomputed(shop)
        assert together == {
            b: n for (a, b), n in pairs.items() if a == product and b not in excluded and n > 0
        }
        trending_here = {r["product_id"] for r in rec.trending(pool, 100, exclude=[product])}
        assert product not in trending_here
    for i, customer in enumerate(customers):
        bought = {
            shop.ids[p]
            for who, units, fate in orders
            if who == i and not fate.endswith("cancelled")
            for p in units
        }
        got = {r["product_id"] for r in rec.for_customer(pool, customer, 100)}
        assert not got & (bought | excluded)


def test_related_products_follow_the_declared_relationships(shop: Shop):
    shop.container.runner.catch_up([rec.NAME])
    ids = shop.ids
    related = {r["product_id"]: r["score"] for r in rec.related(shop.container.pool, ids[0], 10)}
    assert related == {ids[1]: 2}  # cross_sell and similar; 4 inactive, 5 out of stock
    assert [r["product_id"] for r in rec.related(shop.container.pool, ids[2], 10)] == [ids[3]]


def test_the_new_views_rebuilt_from_the_log_equal_the_live_ones(shop: Shop):
    c, ctx = shop.container, CommandContext.new("tester")
    for i, customer in enumerate([uuid4(), uuid4(), uuid4()]):
        done = send(c, review.SubmitReview(product_id=shop.ids[0], customer_id=customer,
                                           rating=i + 2, text="ok"), ctx)  # fmt: skip
        if i < 2:
            send(c, review.ModerateReview(review_id=done.stream_id, decision="approve"), ctx)
        if i == 0:
            send(c, review.CastVote(review_id=done.stream_id, customer_id=uuid4(),
                                    helpful=True), ctx)  # fmt: skip
            send(c, review.EditReview(review_id=done.stream_id, rating=5), ctx)
    append_order(shop, uuid4(), {0: 1, 1: 2}, "confirmed")
    append_order(shop, uuid4(), {0: 1, 2: 1}, "confirmed_then_cancelled")
    for name in (rec.NAME, REVIEWS):
        c.runner.catch_up([name])
        before = snapshot(c.pool, live_schema(name))
        assert any(before.values()), name
        c.runner.rebuild(name)
        after = snapshot(c.pool, live_schema(name))
        assert after.keys() == before.keys()
        for table in before:
            assert differences(after[table], before[table]) is None, f"{name}.{table}"
