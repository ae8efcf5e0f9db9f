"""Saga throughput and latency: orders are placed at a steady offered rate while the process
managers run in their own process (``ecom processes run``, as deployed); we measure orders
confirmed per second and the latency from ``OrderPlaced`` (the place command returning) to
``OrderConfirmed`` (seen in the event store by a 5 ms poller), p50 and p99.

    python -m bench.saga --rates 25,50,100 --seconds 15
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID, uuid4

from bench.common import container_on, fresh_database, machine, parser
from commands.context import CommandContext
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.money import Money
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.product.commands import ChangeLifecycle, CreateProduct

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
SKUS = 50


def _setup(container) -> list[str]:  # noqa: ANN001
    ctx = CommandContext.new("bench")
    for code, priority in (("BENCH-WH1", 1), ("BENCH-WH2", 2)):
        container.dispatcher.handle(
            RegisterLocation(code=code, name=code, type="warehouse", priority=priority), ctx
        )
    container.runner.catch_up(["locations"])
    skus = []
    for i in range(SKUS):
        sku, price = f"BENCH-{i:03d}", Money.of(Decimal("10.00"), "USD")
        send = container.dispatcher.handle
        product_id = send(CreateProduct(sku=sku, name=sku, price=price), ctx).stream_id
        send(ChangeLifecycle(product_id=product_id, status="pending_approval"), ctx)
        send(ChangeLifecycle(product_id=product_id, status="active"), ctx)
        container.dispatcher.handle(
            ReceiveStock(sku=sku, location="BENCH-WH1", quantity=10**6), ctx
        )
        skus.append(sku)
    return skus


class Watcher(threading.Thread):
    """Polls the store for confirmations and cancellations; records when each was seen."""

    def __init__(self, container, after: int):  # noqa: ANN001
        super().__init__(daemon=True)
        self.store, self.after = container.store, after
        self.seen: dict[UUID, tuple[str, float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        topics = ("order.OrderConfirmed", "order.OrderCancelled")
        while not self.stop.is_set():
            events = self.store.read_all(after=self.after, limit=1000, topics=topics)
            now = time.perf_counter()
            for e in events:
                self.seen.setdefault(e.stream_id, (e.name, now))
                self.after = e.position
            if not events:
                time.sleep(0.005)


def _place(container, sku: str) -> UUID:  # noqa: ANN001
    return container.dispatcher.handle(
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        CommandContext.new("bench"),
    ).stream_id


def run_rate(container, skus: list[str], rate: float, seconds: float) -> dict:  # noqa: ANN001
    watcher = Watcher(container, container.store.head())
    watcher.start()
    placed: dict[UUID, float] = {}
    lock = threading.Lock()
    count = int(rate * seconds)

    def one(i: int) -> None:
        order_id = _place(container, skus[i % len(skus)])
        at = time.perf_counter()
        with lock:
            placed[order_id] = at

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    offered_end = time.perf_counter()
    deadline = offered_end + 60
    while time.perf_counter() < deadline and not all(o in watcher.seen for o in placed):
        time.sleep(0.05)
    watcher.stop.set()
    watcher.join()
    confirmed = [o for o in placed if watcher.seen.get(o, ("", 0))[0] == "OrderConfirmed"]
    latencies = sorted((watcher.seen[o][1] - placed[o]) * 1000 for o in confirmed)
    last = max(watcher.seen[o][1] for o in confirmed) if confirmed else offered_end
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {
        "offered": rate,
        "placed": len(placed),
        "confirmed": len(confirmed),
        "achieved_placing": len(placed) / (offered_end - start),
        "confirmed_per_s": len(confirmed) / (last - start),
        "p50_ms": q[49],
        "p99_ms": q[98],
    }


def main(argv: list[str] | None = None) -> list[dict]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--rates", default="25,50,100", help="offered orders per second, comma list")
    p.add_argument("--seconds", type=float, default=15.0)
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    results: list[dict] = []
    with fresh_database(args.url, args.keep) as url, container_on(url) as container:
        skus = _setup(container)
        env = {**os.environ, "ECOM_DATABASE_URL": url}
        saga = subprocess.Popen(
            [sys.executable, "-m", "composition.cli", "processes", "run", "--poll", "0.005"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert saga.stdout is not None
            saga.stdout.readline()
            print(machine(url))
            print("| offered/s | placed | confirmed | confirmed/s | p50 ms | p99 ms |")
            print("|---|---|---|---|---|---|")
            for rate in rates:
                r = run_rate(container, skus, rate, args.seconds)
                results.append(r)
                print(
                    f"| {r['offered']:.0f} (placed at {r['achieved_placing']:.0f}) | "
                    f"{r['placed']} | {r['confirmed']} | {r['confirmed_per_s']:.0f} | "
                    f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} |",
                    flush=True,
                )
        finally:
            saga.terminate()
            saga.wait(10)
    return results


if __name__ == "__main__":
    main()
