"""Order commands through the command layer against real PostgreSQL: placement prices from
the catalog, channel duplicates, idempotency keys, concurrency and the read models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import uuid4

import pytest

from commands import orders
from commands.context import CommandContext, Idempotency
from commands.executor import idempotency_record
from domain.errors import InvalidCommand, NotFound, VersionMismatch
from domain.money import Money
from domain.order.commands import (
    AddNote,
    AddTag,
    AddTimelineEntry,
    ModifyOrder,
    PlaceOrder,
    RequestedLine,
)
from domain.order.events import NoteAdded
from domain.order.values import Address, GiftOptions, PaymentRef
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.product.commands import CreateProduct
from eventstore.store import StreamAppend
from projections.order_detail import get_order
from projections.order_modifications import list_modifications
from projections.order_summaries import OrderFilter, list_orders
from projections.order_timeline import list_timeline
from tests.factories import active_product, new_sku, priced, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
VIEWS = ["order_detail", "order_summaries", "order_timeline", "order_modifications"]


def place(container, lines, ctx=None, **kw):
    args = dict(
        customer_id=uuid4(),
        currency="USD",
        lines=lines,
        shipping_address=ADDRESS,
        payment=PaymentRef(token="tok"),
    )
    args.update(kw)
    write = priced(
        container,
        tax=FlatRateTax(Decimal("0.10")),
        shipping=FlatRateShipping(Decimal("5.00"), Decimal("100")),
    )
    return send(write, PlaceOrder(**args), ctx or CommandContext.new("tester"))


@pytest.fixture
def sku(container):
    return active_product(container, price="19.99")[1]


def test_an_order_is_priced_from_the_catalog_and_numbered_from_the_sequence(container, sku):
    first = place(container, [RequestedLine(sku=sku, quantity=2)])
    second = place(container, [RequestedLine(sku=sku, quantity=1)])
    assert second.extra["number"] > first.extra["number"]
    state = orders.get(container.store, first.stream_id)
    assert state.lines[0].unit_price.amount == Decimal("19.99")
    assert (state.subtotal.amount, state.tax.amount, state.shipping.amount) == (
        Decimal("39.98"),
        Decimal("4.00"),
        Decimal("5.00"),
    )
    assert state.total.amount == Decimal("48.98")


@pytest.mark.parametrize(
    ("make_lines", "code"),
    [
        (lambda sku: [], "no_lines"),
        (lambda sku: [RequestedLine(sku=sku, quantity=0)], "invalid_quantity"),
        (lambda sku: [RequestedLine(sku=new_sku(), quantity=1)], "unknown_sku"),
        (
            lambda sku: [
                RequestedLine(sku=sku, quantity=1),
                RequestedLine(sku=new_sku(), quantity=1),
            ],
            "unknown_sku",
        ),
    ],
)
def test_a_refused_placement_writes_nothing(container, sku, make_lines, code):
    head = container.store.head()
    with pytest.raises(InvalidCommand) as err:
        place(container, make_lines(sku))
    assert err.value.code == code
    assert container.store.head() == head


def test_an_inactive_product_cannot_be_ordered(container):
    sku = new_sku()
    draft = CreateProduct(sku=sku, name="Draft", price=Money.of("1.00", "USD"))
    send(container, draft, CommandContext.new("t"))
    with pytest.raises(InvalidCommand) as err:
        place(container, [RequestedLine(sku=sku, quantity=1)])
    assert err.value.code == "product_not_active"


def test_a_repeated_channel_order_returns_the_existing_one_even_when_concurrent(container, sku):
    channel_order_id = f"AMZ-{uuid4().hex[:8]}"

    def once(_):
        return place(
            container,
            [RequestedLine(sku=sku, quantity=1)],
            channel="amazon",
            channel_order_id=channel_order_id,
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(once, range(8)))
    assert len({r.stream_id for r in results}) == 1
    assert sum(not r.extra["existing"] for r in results) == 1


def test_an_idempotency_key_replays_the_first_result(container, sku):
    key = Idempotency(principal="tester", key=uuid4().hex, request_hash="h1")
    first = place(
        container, [RequestedLine(sku=sku, quantity=1)], ctx=CommandContext.new(idempotency=key)
    )
    head = container.store.head()
    again = place(
        container, [RequestedLine(sku=sku, quantity=1)], ctx=CommandContext.new(idempotency=key)
    )
    assert (again.stream_id, again.position, again.replayed) == (
        first.stream_id,
        first.position,
        True,
    )
    assert container.store.head() == head


def test_a_stale_if_match_is_refused(container, sku):
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    with pytest.raises(VersionMismatch):
        send(
            container,
            ModifyOrder(order_id=order_id, reason="r", priority="high"),
            CommandContext.new(expected_version=7),
        )


def test_modifying_an_unknown_order_is_not_found(container):
    with pytest.raises(NotFound) as err:
        send(
            container,
            ModifyOrder(order_id=uuid4(), reason="r", priority="high"),
            CommandContext.new(),
        )
    assert err.value.code == "order_not_found"


def test_a_hundred_concurrent_modifications_are_all_kept(container, sku):
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id

    def modify(i):
        # Every writer sets a value no other writer sets, so each one is a real change.
        return send(
            container,
            ModifyOrder(
                order_id=order_id, reason=f"change {i}", gift=GiftOptions(message=f"message {i}")
            ),
            CommandContext.new(f"agent-{i}"),
        )

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(modify, range(100)))
    assert sorted(r.version for r in results) == list(range(2, 102))
    assert container.store.stream_version(order_id) == 1 + 100
    container.runner.catch_up(VIEWS)
    history = list_modifications(container.pool, order_id)
    assert len(history) == 100
    assert [h["version"] for h in history] == list(range(2, 102))
    assert {h["reason"] for h in history} == {f"change {i}" for i in range(100)}


def test_the_read_models_agree_with_the_stream(container, sku):
    order_id = place(container, [RequestedLine(sku=sku, quantity=3)]).stream_id
    store, ctx = container.store, CommandContext.new("agent")
    send(store, ModifyOrder(order_id=order_id, reason="rush", priority="urgent"), ctx)
    note_id = send(store, AddNote(order_id=order_id, text="call first"), ctx).extra["note_id"]
    send(store, AddTag(order_id=order_id, tag="Priority"), ctx)
    send(
        store,
        AddTimelineEntry(
            order_id=order_id, type="customer_called", description="d", metadata={"a": [1]}
        ),
        ctx,
    )
    container.runner.catch_up(VIEWS)

    state = orders.get(store, order_id)
    doc = get_order(container.pool, order_id)
    assert doc["version"] == store.stream_version(order_id) == 5
    assert (doc["priority"], doc["tags"], doc["status"]) == ("urgent", ["Priority"], "pending")
    assert doc["total"] == state.total.model_dump(mode="json")
    assert [n["note_id"] for n in doc["notes"]] == [note_id]

    timeline = list_timeline(container.pool, order_id)
    assert [t["type"] for t in timeline] == [
        "order_placed",
        "order_modified",
        "note_added",
        "tag_added",
        "customer_called",
    ]
    assert timeline[-1]["metadata"] == {"a": [1]}

    rows, _ = list_orders(container.pool, OrderFilter(tag="priority"), limit=500)
    assert order_id in [r["id"] for r in rows]
    rows, _ = list_orders(container.pool, OrderFilter(customer_id=state.customer_id))
    assert [r["id"] for r in rows] == [order_id]


def test_paging_the_summaries_visits_every_order_once(container, sku):
    customer_id = uuid4()
    ids = {
        place(container, [RequestedLine(sku=sku, quantity=1)], customer_id=customer_id).stream_id
        for _ in range(5)
    }
    container.runner.catch_up(["order_summaries"])
    seen, after = [], None
    while True:
        rows, after = list_orders(
            container.pool, OrderFilter(customer_id=customer_id), limit=2, after=after
        )
        seen.extend(r["id"] for r in rows)
        if after is None:
            break
    assert len(seen) == 5 and set(seen) == ids


def test_the_state_at_a_past_version_is_the_fold_up_to_it(container, sku):
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    store = container.store
    send(store, ModifyOrder(order_id=order_id, reason="r", priority="high"), CommandContext.new())
    send(store, ModifyOrder(order_id=order_id, reason="r", priority="low"), CommandContext.new())
    then, version = orders.state_at(store, order_id, version=2)
    assert (then.priority, version) == ("high", 2)
    assert orders.state_at(store, order_id)[0] == orders.get(store, order_id)


def test_a_note_added_under_a_key_is_named_again_when_the_key_is_replayed(container, sku):
    # Given a note added under an idempotency key
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    key = Idempotency(principal="tester", key=uuid4().hex, request_hash="note")
    note = AddNote(order_id=order_id, text="fragile")
    first = send(container, note, CommandContext.new("tester", idempotency=key))
    head = container.store.head()
    # When the same request comes again under the key
    again = send(container, note, CommandContext.new("tester", idempotency=key))
    # Then it names the same note and writes nothing
    assert again.replayed and again.extra == first.extra
    assert container.store.head() == head
    assert [str(n.note_id) for n in orders.get(container.store, order_id).notes] == [
        first.extra["note_id"]
    ]


def test_a_key_kept_before_its_handler_named_the_note_still_names_it(container, sku):
    # Given a note added under a key whose kept answer is empty (as answers were before)
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    key = Idempotency(principal="tester", key=uuid4().hex, request_hash="old-note")
    ctx = CommandContext.new("tester", idempotency=key)
    added = NoteAdded(note_id=uuid4(), text="old", author="tester")
    record = idempotency_record(ctx, order_id, 2, {})
    container.store.append([StreamAppend(order_id, 1, [added])], ctx.meta(), record)
    # When the same request comes again under the key
    again = send(container, AddNote(order_id=order_id, text="old"), ctx)
    # Then the answer names that note
    assert again.replayed and again.extra == {"note_id": str(added.note_id)}
