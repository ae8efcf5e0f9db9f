"""No single event may stall a view: for every registered read model, an event whose ``apply``
raises is parked with the later events of its stream; the view reaches the head for every
other stream; after the fault is gone, a retry applies the parked stream in order and the view
equals a rebuild from scratch. The fault is injected by wrapping the real projection's
``apply`` (it raises for one chosen stream), the storage is the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID, uuid4

import pytest
from psycopg import Cursor, sql

from commands.context import CommandContext
from domain.category.commands import CreateCategory
from domain.customer.commands import ForgetCustomer
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import AddTag, ModifyOrder, RequestedLine
from domain.order.fulfillment_commands import RequestCancellation
from domain.order.values import LineQuantity, PaymentRef
from domain.returns.events import ReturnRequested
from eventstore.follower import Attempts, RetryPolicy
from eventstore.recorded import RecordedEvent
from eventstore.store import StreamAppend
from projections.base import BOOKKEEPING_TABLES, live_schema
from projections.registry import all_projections
from tests.conftest import container_of_its_own
from tests.factories import active_product, send
from tests.integration.test_order_commands import place
from tests.tables import differences

VIEWS = [p.name for p in all_projections()]
FAST = RetryPolicy(attempts=3, backoff_s=0.01)


class Poisoned(RuntimeError):
    pass


@contextmanager
def poisoned(view, stream_id: UUID) -> Iterator[list[int]]:
    """Make the real view's ``apply`` raise whenever it is given an event of ``stream_id``;
    yields the positions it raised on."""
    real = view.apply
    raised: list[int] = []

    def apply(cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        bad = [e.position for e in events if e.stream_id == stream_id]
        if bad:
            raised.extend(bad)
            raise Poisoned(f"poisoned stream {stream_id}")
        real(cur, schema, events)

    view.apply = apply
    try:
        yield raised
    finally:
        del view.apply  # the class's own apply again


@pytest.fixture(scope="module")
def container(database_url):
    """A database of its own: the session's, followed by the end-to-end tests' server (its
    views on), would see the views under test move before their test."""
    with container_of_its_own(database_url, "ecom_parking") as c:
        yield c


@pytest.fixture(scope="module")
def scenario(container):
    """Every view caught up, then a handful of events for every view, on at least two streams
    each (locations, products, categories, stock, orders the saga confirms, a modification, a
    cancellation request, returns, forgotten customers). Returns (start, end) positions."""
    runner, store = container.runner, container.store
    runner.attempts = Attempts(FAST)
    ctx = CommandContext.new("parking-test")
    codes = [f"PK-{uuid4().hex[:8]}" for _ in range(4)]
    for i, code in enumerate(codes):
        if i == 2:  # the stock's warehouse is known everywhere before the scenario starts
            container.processes.catch_up()
            runner.catch_up()
            start = store.head()
        send(
            store, RegisterLocation(code=code, name=f"Park {i}", type="warehouse", priority=i), ctx
        )
    skus = [active_product(container)[1] for _ in range(2)]
    for i in range(2):
        send(store, CreateCategory(name=f"Park {i}", slug=f"park-{uuid4().hex[:8]}"), ctx)
    for sku in skus:
        send(store, ReceiveStock(sku=sku, location=codes[0], quantity=50, reference="PO"), ctx)
    placed = [
        place(container, [RequestedLine(sku=sku, quantity=1)], payment=PaymentRef(token="tok_visa"))
        for sku in skus
    ]
    container.processes.catch_up()
    for p in placed:
        send(store, ModifyOrder(order_id=p.stream_id, reason="r", priority="high"), ctx)
        send(store, AddTag(order_id=p.stream_id, tag="parked-test"), ctx)
        send(store, RequestCancellation(order_id=p.stream_id, reason="customer_request"), ctx)
    for p in placed:  # a return each (the returns view folds each return stream on its own)
        store.append(
            [StreamAppend(uuid4(), 0, [ReturnRequested(
                order_id=p.stream_id, lines=[LineQuantity(line_id="l1", quantity=1)], reason="r"
            )])],
            ctx.meta(),
        )  # fmt: skip
    for _ in range(2):
        send(container, ForgetCustomer(customer_id=uuid4()), ctx)
    return start, store.head()


def streams_of(container, view, start: int, end: int) -> dict[UUID, list[int]]:
    """The view's events in (start, end], by stream, in order of each stream's first event."""
    with container.pool.connection() as conn:
        rows = conn.execute(
            "SELECT originator_id, notification_id FROM stored_events WHERE notification_id > %s "
            "AND notification_id <= %s AND topic = ANY(%s) ORDER BY notification_id",
            (start, end, list(view.topics)),
        ).fetchall()
    out: dict[UUID, list[int]] = {}
    for stream, position in rows:
        out.setdefault(stream, []).append(position)
    return out


def snapshot(container, name: str) -> dict[str, list[tuple]]:
    schema = live_schema(name)
    with container.pool.connection() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' AND table_name <> ALL(%s)",
                (schema, list(BOOKKEEPING_TABLES)),
            )
        ]
        return {
            t: sorted(
                conn.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(t))
                ).fetchall(),
                key=lambda row: tuple(repr(v) for v in row),
            )
            for t in sorted(tables)
        }


def assert_same(container, name: str, expected: dict[str, list[tuple]]) -> None:
    got = snapshot(container, name)
    assert got.keys() == expected.keys(), name
    for table in expected:
        problem = differences(got[table], expected[table])
        assert problem is None, f"{name}.{table}: {problem}"


@pytest.mark.parametrize("name", VIEWS)
def test_a_poisoned_stream_is_parked_and_the_view_moves_on_then_retried_in_order(
    container, scenario, name
):
    # given a view that has not yet seen the scenario, and a fault on one of its streams
    start, end = scenario
    runner, parking = container.runner, container.parking
    view = runner.projections[name]
    assert runner.position(name) == start, "the view saw the scenario before its test"
    by_stream = streams_of(container, view, start, end)
    assert len(by_stream) >= 2, f"the scenario gives {name} fewer than two streams"
    # the stream that started last: what it refers to is there before it
    target = max(by_stream, key=lambda s: by_stream[s][0])
    with poisoned(view, target) as raised:
        # when the view catches up
        runner.catch_up([name], timeout_s=60)

        # then the poisoned event and every later event of its stream are parked
        assert runner.position(name) >= end
        assert raised, "the fault never fired"
        parked = parking.list(name)
        assert [p.position for p in parked] == by_stream[target]
        first, *behind = parked
        assert first.behind is None and first.attempts == FAST.attempts
        assert "Poisoned" in first.error
        assert all(p.behind == first.id and p.stream_id == target for p in behind)
        assert {s.name: s.parked for s in runner.status()}[name] == len(parked)
        # and every other stream is applied: the view equals a rebuild that parks the same
        live = snapshot(container, name)
        rebuilt = runner.rebuild(name)
        assert rebuilt.parked == len(by_stream[target])
        assert_same(container, name, live)
        assert [p.position for p in parking.list(name)] == by_stream[target]

    # when the fault is gone and an operator retries the view's parked streams
    outcomes = parking.retry_follower(name)

    # then the stream is applied in order, nothing stays parked, and the view equals a rebuild
    assert [(o.applied, o.still_parked) for o in outcomes] == [(len(by_stream[target]), 0)]
    assert parking.list(name) == []
    retried = snapshot(container, name)
    assert runner.rebuild(name).parked == 0
    assert_same(container, name, retried)
