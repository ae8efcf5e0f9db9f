"""The placement saga resuming after a crash: a partial hold left by an earlier run is released
and the order is reserved afresh (under new reservation ids) and confirmed; complete holds are
kept, not reserved twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4, uuid5

from commands import inventory, orders
from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from domain.inventory.commands import ReceiveStock, ReserveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def setup(container):  # noqa: ANN001, ANN201
    ctx = CommandContext.new("t")
    code = f"RS-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    skus = [active_product(container, price="10.00")[1] for _ in range(2)]
    for sku in skus:
        send(container, ReceiveStock(sku=sku, location=code, quantity=5), ctx)
    placed = send(
        container,
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=skus[0], quantity=2), RequestedLine(sku=skus[1], quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        ctx,
    )
    event = container.store.load_with_positions(placed.stream_id)[0]
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)
    return code, skus, placed.stream_id, event, saga


def test_a_partial_hold_is_released_and_the_order_reserved_afresh(container):
    code, skus, order_id, event, saga = setup(container)
    # given: an earlier run held line 1 only (under the saga's own reservation id), then died
    line1 = orders.get(container.store, order_id).lines[0].line_id
    first_id = uuid5(order_id, f"reservation:{line1}:{code}")
    held = ReserveStock(
        sku=skus[0], reservation_id=first_id, order_id=order_id, line_id=UUID(str(line1)),
        location=code, quantity=2, expires_at=None,
    )  # fmt: skip
    send(container, held, CommandContext.new("t"))

    saga.handle(Trigger("resume-test", event))

    state = orders.get(container.store, order_id)
    assert state.status == "confirmed"
    assert first_id not in {UUID(str(a["reservation_id"])) for a in state.allocations}
    stock = inventory.get(container.store, skus[0])
    assert stock.reservations[first_id].status == "released"
    assert (stock.level(code).on_hand, stock.level(code).reserved) == (5, 2)
    assert inventory.get(container.store, skus[1]).level(code).reserved == 1


def test_a_second_run_over_a_decided_order_writes_nothing(container):
    _code, _skus, order_id, event, saga = setup(container)
    saga.handle(Trigger("resume-test", event))
    head = container.store.head()
    saga.handle(Trigger("resume-test", event))
    assert container.store.head() == head
    assert orders.get(container.store, order_id).status == "confirmed"


def test_a_batch_racing_other_writers_on_its_stock_is_decided_again_not_lost(container):
    code, skus, _order_id, _event, saga = setup(container)
    ctx = CommandContext.new("t")
    send(container, ReceiveStock(sku=skus[0], location=code, quantity=20), ctx)
    events = []
    for _ in range(20):
        placed = send(
            container,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=[RequestedLine(sku=skus[0], quantity=1)],
                shipping_address=ADDRESS,
                payment=PaymentRef(token="tok_visa"),
            ),
            ctx,
        )
        events.append(container.store.load_with_positions(placed.stream_id)[0])
    stop = threading.Event()

    def receive() -> int:  # a receipt every few milliseconds on the same SKU
        n = 0
        while not stop.wait(0.003):
            receipt = ReceiveStock(sku=skus[0], location=code, quantity=1)
            send(container, receipt, CommandContext.new("t"))
            n += 1
        return n

    with ThreadPoolExecutor(1) as pool:
        receipts = pool.submit(receive)
        try:
            saga.handle_batch([Trigger("race-test", e) for e in events])
        finally:
            stop.set()
        received = receipts.result()
    states = [orders.get(container.store, e.stream_id).status for e in events]
    assert states == ["confirmed"] * 20
    level = inventory.get(container.store, skus[0]).level(code)
    assert (level.on_hand, level.reserved) == (25 + received, 20)


class RecordingGateway:
    """The container's sandbox, noting what it is asked: batches at once, and cards one by
    one with the thread that asked."""

    def __init__(self, inner):  # noqa: ANN001
        self.inner, self.name, self.batches, self.alone, self.threads = (
            inner,
            inner.name,
            [],
            [],
            [],
        )

    def authorize_at_once(self, requests):  # noqa: ANN001, ANN201
        self.batches.append(sorted(r.token for r in requests))
        return self.inner.authorize_at_once(requests)

    def authorize(self, key, token, *args):  # noqa: ANN001, ANN002, ANN201
        self.alone.append(token)
        self.threads.append(threading.current_thread().name)
        return self.inner.authorize(key, token, *args)

    def __getattr__(self, attr: str):  # noqa: ANN204
        return getattr(self.inner, attr)


class OneByOneGateway(RecordingGateway):
    """As a gateway over the network: no batch call, every card asked one by one."""

    authorize_at_once = None


def test_batches_ask_the_gateway_on_threads_kept_from_one_batch_to_the_next(container):
    """Starting threads for every batch cost the saga more than asking: three batches of two
    orders are asked on at most two threads in all (threads started per batch would be at
    least three)."""
    _code, skus, _order_id, first, _saga = setup(container)
    gateway = OneByOneGateway(container.gateway)
    saga = OrderPlacementSaga(container.store, container.pool, gateway)
    more = []
    for sku in [skus[0]] * 3 + [skus[1]] * 2:  # what setup's order left of each
        placed = send(
            container,
            PlaceOrder(
                customer_id=uuid4(), currency="USD",
                lines=[RequestedLine(sku=sku, quantity=1)],
                shipping_address=ADDRESS, payment=PaymentRef(token="tok_visa"),
            ),
            CommandContext.new("t"),
        )  # fmt: skip
        more.append(container.store.load_with_positions(placed.stream_id)[0])
    triggers = [Trigger("threads-test", e) for e in [first, *more]]
    for i in range(0, 6, 2):
        saga.handle_batch(triggers[i : i + 2])
    assert len(gateway.threads) == 6 and len(set(gateway.threads)) <= 2
    assert {orders.get(container.store, e.stream_id).status for e in [first, *more]} == {
        "confirmed"
    }


def test_a_new_order_is_loaded_after_its_placement_which_the_trigger_brought(
    container, monkeypatch
):
    """The ``OrderPlaced`` that opens an order's stream is its state at version 1: the saga
    reads the stream only after it (not the placement again, its personal data decrypted a
    second time), and decides as it would have."""
    _code, skus, order_id, event, saga = setup(container)
    asked: list[dict] = []
    load_many = container.store.load_many

    def recording(after, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append(dict(after))
        return load_many(after, *args, **kwargs)

    monkeypatch.setattr(container.store, "load_many", recording)
    saga.handle(Trigger("known-test", event))
    assert asked and all(after.get(order_id, 1) == 1 for after in asked)
    assert any(order_id in after for after in asked)
    state = orders.get(container.store, order_id)
    assert state.status == "confirmed" and len(state.allocations) == 2
    assert inventory.get(container.store, skus[0]).reservations


def test_a_batch_asks_the_sandbox_once_and_only_a_card_answering_by_attempt_alone(container):
    """Given three orders paid by visa and one by a flaky card in one batch, the saga asks the
    sandbox for all four in one call, then the flaky card alone (it fails twice, then
    approves); every order is confirmed."""
    _code, skus, _order_id, _event, _saga = setup(container)
    gateway = RecordingGateway(container.gateway)
    saga = OrderPlacementSaga(container.store, container.pool, gateway)
    placed = []
    for token in ("tok_visa", "tok_visa", "tok_flaky", "tok_visa"):
        order = send(
            container,
            PlaceOrder(
                customer_id=uuid4(), currency="USD",
                lines=[RequestedLine(sku=skus[1], quantity=1)],
                shipping_address=ADDRESS, payment=PaymentRef(token=token),
            ),
            CommandContext.new("t"),
        )  # fmt: skip
        placed.append(container.store.load_with_positions(order.stream_id)[0])
    saga.handle_batch([Trigger("batch-test", e) for e in placed])
    assert gateway.batches == [["tok_flaky", "tok_visa", "tok_visa", "tok_visa"]]
    assert gateway.alone == ["tok_flaky"] * 3
    assert {orders.get(container.store, e.stream_id).status for e in placed} == {"confirmed"}
