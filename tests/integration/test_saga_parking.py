"""A placement saga step that keeps failing for one order: that order's ``OrderPlaced`` is
parked and the order is cancelled ``processing_failed`` (its stock released, its authorization
voided), never left pending; the other orders of the same batches are confirmed. The fault is
injected by wrapping the real saga's decision for that one order."""

from __future__ import annotations

from uuid import uuid4

from commands import inventory, orders
from commands.context import CommandContext
from commands.placement_saga import PROCESSING_FAILED
from domain.ids import payment_stream
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from eventstore.follower import Attempts, RetryPolicy
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def test_an_order_whose_step_keeps_failing_is_parked_and_visibly_cancelled(container):
    # given stock at a warehouse and three orders, the saga failing on the middle one
    store, ctx = container.store, CommandContext.new("saga-parking")
    code = f"SP-{uuid4().hex[:8]}"
    send(store, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    sku = active_product(container, price="10.00")[1]
    send(store, ReceiveStock(sku=sku, location=code, quantity=10), ctx)
    ids = []
    for _ in range(3):
        ids.append(
            send(
                store,
                PlaceOrder(
                    customer_id=uuid4(),
                    currency="USD",
                    lines=[RequestedLine(sku=sku, quantity=2)],
                    shipping_address=ADDRESS,
                    payment=PaymentRef(token="tok_visa"),
                ),
                ctx,
            ).stream_id
        )
    good1, bad, good2 = ids
    processes = container.processes
    saga = processes.managers["order_placement"]
    real_decide = saga._decide

    def decide(uow, o, clock):  # noqa: ANN001, ANN202
        if o.order_id == bad:
            raise RuntimeError("the saga cannot decide this order")
        return real_decide(uow, o, clock)

    saga._decide = decide
    kept = processes.attempts
    processes.attempts = Attempts(RetryPolicy(attempts=3, backoff_s=0.01))
    try:
        # when the process managers catch up
        processes.catch_up()
    finally:
        processes.attempts = kept
        del saga._decide

    # then the other orders are confirmed
    assert orders.get(store, good1).status == "confirmed"
    assert orders.get(store, good2).status == "confirmed"
    # and the failing one is parked, and cancelled with what it held released and voided
    parked = container.parking.list("process:order_placement")
    [mine] = [p for p in parked if p.stream_id == bad]
    assert mine.event_type == "order.OrderPlaced" and mine.behind is None
    assert "cannot decide this order" in mine.error
    state = orders.get(store, bad)
    assert state.status == "cancelled" and state.cancellation_reason == PROCESSING_FAILED
    level = inventory.get(store, sku).level(code)
    assert (level.on_hand, level.reserved) == (10, 4)
    assert "AuthorizationVoided" in [e.name for e in store.load(payment_stream(bad))]

    # when an operator retries it once the fault is gone, the decided order is left as it is
    outcome = container.parking.retry(mine.id)
    assert (outcome.applied, outcome.still_parked) == (1, 0)
    assert orders.get(store, bad).status == "cancelled"
    assert all(p.stream_id != bad for p in container.parking.list("process:order_placement"))
