"""Reviews and recommendations at size: P products (by default 500, active and stocked) and O
orders (by default 50,000 of 1-4 products each, 80 % confirmed, 5 % of those then cancelled)
COPYed into a fresh database as events; then

- the recommendations view built from the log (``runner.rebuild``: events/s);
- each recommendation query (related, bought together, trending, a customer's), median and
  p95 of 50 rounds over random products and customers;
- R reviews (by default 2,000) submitted through the dispatcher (the claim, the product check
  and the verification read on the write side: commands/s) and approved, the reviews view
  caught up, then a product's first page of reviews and its rating, median and p95.

    python -m bench.reviews --orders 50000 --reviews 2000
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import container_on, fresh_database, machine, parser, percentile
from commands.context import CommandContext
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.money import Money
from domain.order.events import OrderCancelled, OrderConfirmed, OrderPlaced
from domain.order.values import Address, OrderLine, PaymentRef
from domain.product.commands import ChangeLifecycle, CreateProduct
from domain.relationship.commands import RelateProducts
from domain.review import commands as review
from eventstore.recorded import EventMeta
from projections import recommendations as rec
from projections import reviews as reviews_view

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
ZERO = Money.of(0, "USD")


def active_product(c, n: int) -> tuple[uuid.UUID, str]:  # noqa: ANN001
    ctx, sku = CommandContext.new("bench"), f"REV-{n}-{uuid.uuid4().hex[:6]}"
    pid = c.dispatcher.handle(CreateProduct(sku=sku, name=f"Product {n}",
                                            price=Money.of(10, "USD")), ctx).stream_id  # fmt: skip
    for status in ("pending_approval", "active"):
        c.dispatcher.handle(ChangeLifecycle(product_id=pid, status=status), ctx)
    return pid, sku


def timed(rounds: int, query) -> str:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        query()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return f"median {percentile(times, 0.5):.2f} ms, p95 {percentile(times, 0.95):.2f} ms"


def copy_orders(container, url: str, products, orders: int, rng: random.Random) -> list:  # noqa: ANN001
    """The orders as events, COPYed; returns the customers (200 of them)."""
    mapper, customers = container.store.mapper, [uuid.uuid4() for _ in range(200)]
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY stored_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy:
            for n in range(orders):
                at = now - timedelta(seconds=rng.randrange(14 * 86_400))
                meta = EventMeta(at, "bench", str(uuid.uuid4()), "bench")
                picked = rng.sample(products, rng.randint(1, 4))
                lines = [
                    OrderLine(
                        line_id=f"L{i}",
                        sku=sku,
                        product_id=pid,
                        quantity=1,
                        unit_price=ZERO,
                        total=ZERO,
                    )  # fmt: skip
                    for i, (pid, sku) in enumerate(picked)
                ]
                events = [
                    OrderPlaced(
                        order_number=n,
                        customer_id=rng.choice(customers),
                        currency="USD",
                        lines=lines,
                        shipping_address=ADDRESS,
                        payment=PaymentRef(token="t"),
                        subtotal=ZERO,
                        tax=ZERO,
                        shipping=ZERO,
                        discount=ZERO,
                        total=ZERO,
                        placed_at=at,
                        placed_by="bench",
                    )  # fmt: skip
                ]
                if rng.random() < 0.8:
                    events.append(OrderConfirmed(allocations=[], confirmed_at=at))
                    if rng.random() < 0.05:
                        events.append(OrderCancelled(reason="bench", cancelled_at=at,
                                                     cancelled_by="bench"))  # fmt: skip
                order_id = uuid.uuid4()
                for version, event in enumerate(events, start=1):
                    stored = mapper.to_stored(order_id, version, event, meta)
                    copy.write_row((order_id, version, stored.topic, stored.state))
        cur.execute("ANALYZE stored_events")
    return customers


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--products", type=int, default=500)
    p.add_argument("--orders", type=int, default=50_000)
    p.add_argument("--reviews", type=int, default=2_000)
    args = p.parse_args(argv)
    rng = random.Random(7)
    with fresh_database(args.url, args.keep) as url, container_on(url) as c:
        print(machine(url))
        ctx = CommandContext.new("bench")
        d = c.dispatcher.handle
        d(RegisterLocation(code="WH", name="WH", type="warehouse", priority=1), ctx)
        products = [active_product(c, n) for n in range(args.products)]
        for _pid, sku in products:
            d(ReceiveStock(sku=sku, location="WH", quantity=100), ctx)
        for pid, _sku in products[:100]:
            for other, _ in rng.sample(products, 3):
                if other != pid:
                    d(RelateProducts(product_id=pid, type="similar", related_product_id=other), ctx)
        customers = copy_orders(c, url, products, args.orders, rng)
        c.runner.catch_up([n for n in c.runner.projections if n != rec.NAME])
        t0 = time.perf_counter()
        built = c.runner.rebuild(rec.NAME)
        took = time.perf_counter() - t0
        print(f"recommendations rebuilt: {int(built)} events in {took:.1f} s "
              f"({int(built) / took:.0f} events/s)")  # fmt: skip
        pool, ids = c.pool, [pid for pid, _ in products]
        for name, query in [
            ("related", lambda: rec.related(pool, rng.choice(ids[:100]), 10)),
            ("bought_together", lambda: rec.bought_together(pool, rng.choice(ids), 10)),
            ("trending", lambda: rec.trending(pool, 10, exclude=[rng.choice(ids)])),
            ("customer", lambda: rec.for_customer(pool, rng.choice(customers), 10)),
        ]:
            print(f"{name:16} {timed(50, query)}")

        t0 = time.perf_counter()
        made = []
        for n in range(args.reviews):
            command = review.SubmitReview(product_id=ids[n % len(ids)], customer_id=uuid.uuid4(),
                                          rating=rng.randint(1, 5), text="bench")  # fmt: skip
            made.append(d(command, ctx).stream_id)
        took = time.perf_counter() - t0
        print(f"reviews submitted: {args.reviews} in {took:.1f} s "
              f"({args.reviews / took:.0f}/s, one thread)")  # fmt: skip
        for review_id in made:
            d(review.ModerateReview(review_id=review_id, decision="approve"), ctx)
        t0 = time.perf_counter()
        c.runner.catch_up([reviews_view.NAME])
        print(f"reviews view caught up over {2 * args.reviews} events in "
              f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
        page = timed(50, lambda: reviews_view.list_reviews(pool, rng.choice(ids), sort="helpful"))
        rating = timed(50, lambda: reviews_view.product_rating(pool, rng.choice(ids)))
        print(f"{'reviews page':16} {page}\n{'rating':16} {rating}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
