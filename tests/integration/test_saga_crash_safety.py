"""Crash safety: 500 orders go through the placement saga, then shipments dispatch and
cancellations are approved for some of them, while the process running the process managers
(``ecom processes run``) is SIGKILLed at random moments at least ten times and restarted.

Afterwards every order is confirmed or cancelled, stock is conserved (received = on hand +
shipped), no reservation or authorization is left orphaned, and the gateway captured and
refunded each thing once (its idempotency memory is the PostgreSQL table of migration 004)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from commands import inventory, orders, payments
from commands.context import CommandContext
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.fulfillment_commands import LineUnits, RequestCancellation, ReviewCancellation
from domain.order.values import Address, PaymentRef
from domain.shipment.commands import OpenShipment, RecordTracking
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
ORDERS = 500
SKUS = 20
KILLS = 10


class SagaProcess:
    """``ecom processes run`` as a child process we can SIGKILL and start again."""

    def __init__(self, database_url: str):
        self.env = {
            **os.environ,
            "ECOM_DATABASE_URL": database_url,
            "ECOM_PAYMENT_TIMEOUT_S": "0.2",
            "ECOM_POOL_SIZE": "4",
        }
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return  # still running from the previous phase
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "composition.cli", "processes", "run", "--poll", "0.01"],
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "processes running: …" once it has started

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _place_all(container, skus: list[str], rng: random.Random) -> list[UUID]:
    ids = []
    for i in range(ORDERS):
        token = "tok_declined" if i % 10 == 3 else ("tok_flaky" if i % 25 == 7 else "tok_visa")
        result = send(
            container,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=[RequestedLine(sku=rng.choice(skus), quantity=rng.randint(1, 2))],
                shipping_address=ADDRESS,
                payment=PaymentRef(token=token),
            ),
            CommandContext.new("crash-test"),
        )
        ids.append(result.stream_id)
    return ids


def _count_with(container, ids: list[UUID], *topics: str) -> int:
    """How many of ``ids`` have an event of one of ``topics`` (one query, no folding)."""
    store = container.store
    with store.datastore.get_connection() as conn:
        row = conn.execute(
            f"SELECT count(DISTINCT originator_id) AS n FROM {store.table} "
            "WHERE topic = ANY(%s) AND originator_id = ANY(%s)",
            (list(topics), ids),
        ).fetchone()
    return row["n"]


def _settled(container, ids: list[UUID]) -> int:
    return _count_with(container, ids, "order.OrderConfirmed", "order.OrderCancelled")


def _run_while_killing(saga: SagaProcess, done, rng, min_kills: int) -> None:
    """Keep the saga running until ``done()``; kill it at random moments meanwhile."""
    deadline = time.monotonic() + 240  # ~70 s in all on an idle 2-core machine
    while time.monotonic() < deadline:
        saga.start()
        time.sleep(rng.uniform(1.0, 2.5))
        if done() and saga.kills >= min_kills:
            return
        saga.kill()
    raise AssertionError("the saga did not finish in time")


def _dispatch_without_follow_up(container, order_id: UUID, state) -> UUID:  # noqa: ANN001
    """Open a shipment for the whole order and record ``picked_up``: all the requests do;
    commit, ``LinesShipped`` and capture are left to the (crashing) fulfillment manager."""
    alloc = state.allocations[0]
    lines = [
        LineUnits(line_id=str(a["line_id"]), quantity=int(a["quantity"])) for a in state.allocations
    ]
    opened = send(
        container,
        OpenShipment(order_id=order_id, location=str(alloc["location"]), lines=lines,
                     carrier="UPS"),
        CommandContext.new("crash-test"),
    )  # fmt: skip
    shipment_id = UUID(opened.extra["id"])
    send(
        container,
        RecordTracking(shipment_id=shipment_id, status="picked_up"),
        CommandContext.new("crash-test"),
    )
    return shipment_id


def test_the_saga_survives_repeated_sigkills(container, database_url):
    rng = random.Random(1234)
    store = container.store
    codes = []
    for priority in (1, 2):
        code = f"CR-{uuid4().hex[:8]}"
        send(
            store,
            RegisterLocation(code=code, name=code, type="warehouse", priority=priority),
            CommandContext.new("t"),
        )
        codes.append(code)
    container.runner.catch_up(["locations"])
    skus = [active_product(container, price="10.00")[1] for _ in range(SKUS)]
    received = {}
    for sku in skus:
        for code, quantity in zip(codes, (20, 15), strict=True):
            send(
                store,
                ReceiveStock(sku=sku, location=code, quantity=quantity),
                CommandContext.new("t"),
            )
        received[sku] = 35
    ids = _place_all(container, skus, rng)

    saga = SagaProcess(database_url)
    try:
        _run_while_killing(
            saga,
            lambda: _settled(container, ids) == ORDERS,
            rng,
            KILLS - 4,
        )

        # Phase 2: dispatch 60 confirmed orders, cancel 40 others, and keep killing.
        states = {i: orders.get(store, i) for i in ids}
        confirmed = [i for i in ids if states[i].status == "confirmed"]
        assert len(confirmed) > 100
        shipped = {i: _dispatch_without_follow_up(container, i, states[i]) for i in confirmed[:60]}
        cancelled_by_request = confirmed[60:100]
        for i in cancelled_by_request:
            requested = send(
                store, RequestCancellation(order_id=i, reason="other"), CommandContext.new("t")
            )
            request_id = UUID(requested.extra["id"])
            send(
                store,
                ReviewCancellation(request_id=request_id, approve=True),
                CommandContext.new("t"),
            )

        def phase_two_done() -> bool:
            return _count_with(container, list(shipped), "order.LinesShipped") == len(
                shipped
            ) and _count_with(
                container, cancelled_by_request, "order.CancellationCompleted"
            ) == len(cancelled_by_request)

        _run_while_killing(saga, phase_two_done, rng, KILLS)
    finally:
        saga.stop()
    assert saga.kills >= KILLS

    # Every order ended confirmed or cancelled (or shipped, for those we dispatched).
    final = {i: orders.get(store, i) for i in ids}
    for i, state in final.items():
        expected = {"shipped"} if i in shipped else {"confirmed", "cancelled"}
        assert state.status in expected, (i, state.status, state.cancellation_reason)

    # Stock conserved; reservations exactly those of live orders, none expiring.
    live_reserved: dict[str, int] = defaultdict(int)
    shipped_units: dict[str, int] = defaultdict(int)
    for state in final.values():
        for line in state.lines:
            if state.status == "confirmed":
                live_reserved[line.sku] += line.quantity
            if state.status == "shipped":
                shipped_units[line.sku] += line.quantity
    for sku in skus:
        inv = inventory.get(store, sku)
        totals = inv.totals()
        assert received[sku] == totals["on_hand"] + shipped_units[sku], sku
        assert totals["reserved"] == live_reserved[sku], sku
        assert totals["available"] >= 0
        for r in inv.reservations.values():
            if r.status == "active":
                assert final[r.order_id].status == "confirmed", r
                assert r.expires_at is None, r

    # No orphaned authorization; captures and refunds once each.
    for i, state in final.items():
        pay = payments.get(store, i)
        if state.status == "cancelled":
            assert pay.capturable == 0 and pay.captured == 0, (i, pay)
        elif state.status == "confirmed":
            assert pay.authorized == state.total.amount and pay.captured == 0
        else:  # shipped: the whole authorization captured, once
            assert pay.captured == pay.authorized == state.total.amount, (i, pay)
            assert len(pay.capture_ids) == 1
    with container.pool.connection() as conn:
        rows = conn.execute(
            "SELECT key, amount FROM gateway_idempotency WHERE operation = 'capture' "
            "AND key = ANY(%s)",
            ([f"capture:{uuid5(s, 'capture')}" for s in shipped.values()],),
        ).fetchall()
    assert len(rows) == len(shipped)
    gateway_total = sum(Decimal(r[1]) for r in rows)
    assert gateway_total == sum(payments.get(store, i).captured for i in shipped)
