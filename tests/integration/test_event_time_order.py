"""Event time is the decider's clock, and it never goes back within a stream (hypothesis,
stateful, real PostgreSQL).

Random order commands (place, tag, untag, note, change priority, cancel) and runs of the
placement saga over batches of the placed orders, every one stamped by a clock that steps back
and forward at random. After each step, for every stream the step wrote (orders, the SKUs'
inventory, payments, fulfillment plans):

- ``occurred_at`` never decreases along the stream;
- the state as of any instant between two consecutive events (the earlier one's time, a
  microsecond after it, a microsecond before the next) is the state at the earlier version,
  the fold of the stream's prefix up to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from commands import orders
from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from commands.time_travel import jsonable, state_at
from domain.errors import DomainError
from domain.fulfillment.state import PLAN
from domain.ids import inventory_stream
from domain.inventory.commands import ReceiveStock
from domain.inventory.state import INVENTORY
from domain.location.commands import RegisterLocation
from domain.order.commands import (
    AddNote,
    AddTag,
    CancelOrder,
    ModifyOrder,
    PlaceOrder,
    RemoveTag,
    RequestedLine,
)
from domain.order.state import ORDER
from domain.order.values import Address, PaymentRef
from domain.payment.state import PAYMENT
from eventstore.recorded import RecordedEvent
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
AGGREGATES = {a.stream_type: a for a in (ORDER, INVENTORY, PAYMENT, PLAN)}
TICK = timedelta(microseconds=1)


class SteppingClock:
    """A clock the test moves by hand, back as well as forward."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def shop(container):
    """A location, a SKU with plenty of stock and one with none (out of stock)."""
    ctx = CommandContext.new("clock-test")
    code = f"CK-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    plenty = active_product(container, price="10.00")[1]
    send(container, ReceiveStock(sku=plenty, location=code, quantity=1_000_000), ctx)
    none = active_product(container, price="5.00")[1]
    return {"plenty": plenty, "none": none}


def written_since(store, position: int) -> set[UUID]:
    """The streams of every event written after ``position``."""
    touched: set[UUID] = set()
    while page := store.read_all(after=position, limit=500):
        touched.update(e.stream_id for e in page)
        position = page[-1].position
    return touched


def past_state(store, stream_type: str, stream_id: UUID, instant: datetime):
    """The stream as it was at ``instant``, as the API answers it (``?as_of=``)."""
    if stream_type == "order":
        return orders.state_at(store, stream_id, as_of=instant)
    return state_at(store, AGGREGATES[stream_type], stream_id, kind=stream_type, as_of=instant)


def check_stream(store, events: list[RecordedEvent], since: int) -> None:
    """Time order along the stream, and ``as_of`` between each new event and the one before."""
    times = [e.meta.occurred_at for e in events]
    assert times == sorted(times), [(e.version, e.type, e.meta.occurred_at) for e in events]
    aggregate = AGGREGATES[events[0].stream_type]
    for i in range(1, len(events)):
        if events[i].position <= since:
            continue  # checked when it was written
        before, after = times[i - 1], times[i]
        instants = {before, min(before + TICK, after), max(after - TICK, before)}
        for instant in sorted(instants):
            # the prefix: every event up to the first one later than the instant
            prefix = [e for e in events if e.meta.occurred_at <= instant]
            assert prefix == events[: len(prefix)]
            state, version = past_state(store, events[0].stream_type, events[0].stream_id, instant)
            assert version == len(prefix)
            assert jsonable(state) == jsonable(aggregate.fold(e.to_domain() for e in prefix))
            if instant < after:  # strictly between the two: the earlier version
                assert version == events[i - 1].version


class OrderClock(RuleBasedStateMachine):
    container = None
    shop: dict = {}
    saga: OrderPlacementSaga | None = None
    clock: SteppingClock | None = None

    placed = Bundle("placed")  # orders the saga has not run for yet
    known = Bundle("known")  # every order placed

    def __init__(self):
        super().__init__()
        self.store = self.container.store
        self.clock.now = datetime.now(UTC)
        self.head = self.store.head()

    def ctx(self) -> CommandContext:
        return CommandContext.new("clock-test", now=self.clock())

    def attempt(self, command) -> None:  # noqa: ANN001
        try:
            command()
        except DomainError:
            pass  # refused: writes nothing

    # ---- the clock ---------------------------------------------------------------------------

    @rule(seconds=st.integers(-3 * 3600, 3600), micros=st.integers(0, 999_999))
    def move_clock(self, seconds, micros):
        """Back (a clock corrected, or another decider's behind) or forward."""
        self.clock.now += timedelta(seconds=seconds, microseconds=micros)

    # ---- commands ----------------------------------------------------------------------------

    @initialize(target=placed)
    def first_order(self):
        return self.place("plenty", 1, "tok_visa")

    @rule(
        target=placed,
        sku=st.sampled_from(["plenty", "none"]),
        quantity=st.integers(1, 3),
        token=st.sampled_from(["tok_visa", "tok_visa", "tok_declined"]),
    )
    def place_order(self, sku, quantity, token):
        return self.place(sku, quantity, token)

    def place(self, sku: str, quantity: int, token: str) -> UUID:
        result = send(
            self.store,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=[RequestedLine(sku=self.shop[sku], quantity=quantity)],
                shipping_address=ADDRESS,
                payment=PaymentRef(token=token),
            ),
            self.ctx(),
        )
        return result.stream_id

    @rule(
        order=st.one_of(placed, known),
        command=st.sampled_from(
            ["tag vip", "tag gift", "untag vip", "note", "priority high", "priority low", "cancel"]
        ),
    )
    def change_order(self, order, command):
        """A command on an order, before or after the saga ran for it."""
        store, ctx = self.store, self.ctx()
        verb, _, arg = command.partition(" ")
        commands = {
            "tag": lambda: send(store, AddTag(order_id=order, tag=arg), ctx),
            "untag": lambda: send(store, RemoveTag(order_id=order, tag=arg), ctx),
            "note": lambda: send(store, AddNote(order_id=order, text="fragile"), ctx),
            "priority": lambda: send(
                store, ModifyOrder(order_id=order, reason="asked", priority=arg), ctx
            ),
            "cancel": lambda: send(
                store, CancelOrder(order_id=order, reason="customer_request"), ctx
            ),
        }
        self.attempt(commands[verb])

    @rule(target=known, batch=st.lists(consumes(placed), min_size=1, max_size=3, unique=True))
    def run_saga(self, batch):
        """The saga decides a batch of placed orders (reserve, authorize, confirm or
        compensate), stamping with the same clock."""
        triggers = [
            Trigger("clock-test", self.store.load_with_positions(order_id)[0]) for order_id in batch
        ]
        self.saga.handle_batch(triggers)
        return batch[0]

    # ---- what must hold ----------------------------------------------------------------------

    @invariant()
    def time_never_goes_back_and_as_of_is_the_earlier_state(self):
        since, self.head = self.head, self.store.head()
        for stream_id in written_since(self.store, since):
            events = self.store.load_with_positions(stream_id)
            if events[0].stream_type in AGGREGATES:
                check_stream(self.store, events, since)


def test_event_time_is_monotonic_per_stream_and_as_of_folds_the_prefix(container, shop):
    OrderClock.container = container
    OrderClock.shop = shop
    OrderClock.clock = SteppingClock(datetime.now(UTC))
    OrderClock.saga = OrderPlacementSaga(
        container.store, container.pool, container.gateway, clock=OrderClock.clock
    )
    run_state_machine_as_test(
        OrderClock,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# ---- the reported scenario, with a saga whose clock is behind ----------------------------------


def place_at(container, sku: str, at: datetime) -> UUID:
    return send(
        container,
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        CommandContext.new("clock-test", now=at),
    ).stream_id


def run_saga(container, order_id: UUID, clock) -> None:  # noqa: ANN001
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway, clock=clock)
    saga.handle(Trigger("clock-scenario", container.store.load_with_positions(order_id)[0]))


def test_a_tag_before_a_saga_whose_clock_is_behind_keeps_the_order_s_time_in_order(container, shop):
    # given an order placed, then tagged a second later, before the saga ran for it
    placed_at = datetime.now(UTC) + timedelta(hours=1)  # later than anything on the SKU
    order_id = place_at(container, shop["plenty"], placed_at)
    send(
        container,
        AddTag(order_id=order_id, tag="vip"),
        CommandContext.new("clock-test", now=placed_at + timedelta(seconds=1)),
    )
    # when the saga decides with a clock an hour behind the placement
    run_saga(container, order_id, lambda: placed_at - timedelta(hours=1))
    # then the confirmation is stamped no earlier than the tag (the stream's last event)
    placed, tagged, confirmed = container.store.load(order_id)
    assert (placed.type, tagged.type, confirmed.type) == (
        "order.OrderPlaced",
        "order.TagAdded",
        "order.OrderConfirmed",
    )
    assert confirmed.meta.occurred_at == tagged.meta.occurred_at > placed.meta.occurred_at
    # and as of an instant between the placement and the tag, the order is at version 1
    between = placed_at + timedelta(milliseconds=500)
    state, version = orders.state_at(container.store, order_id, as_of=between)
    assert (version, state.status) == (1, "pending")


def test_a_hold_s_time_limit_runs_from_when_the_saga_made_it(container, shop):
    # given an order placed three hours before the saga takes it up (holds last two hours)
    decided_at = datetime.now(UTC) + timedelta(hours=2)
    order_id = place_at(container, shop["plenty"], decided_at - timedelta(hours=3))
    # when the saga decides
    run_saga(container, order_id, lambda: decided_at)
    # then the hold's limit is two hours after it was made, and the order is confirmed
    reserved = [
        e
        for e in container.store.load(inventory_stream(shop["plenty"]))
        if e.type == "inventory.StockReserved" and e.data["order_id"] == str(order_id)
    ]
    assert len(reserved) == 1
    assert reserved[0].meta.occurred_at >= decided_at
    assert datetime.fromisoformat(reserved[0].data["expires_at"]) == decided_at + timedelta(hours=2)
    assert orders.get(container.store, order_id).status == "confirmed"
    confirmed = container.store.load(order_id)[-1]
    assert confirmed.type == "order.OrderConfirmed"
    assert confirmed.meta.occurred_at >= decided_at
