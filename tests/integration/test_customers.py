"""Customers on PostgreSQL: the email claim (case-insensitive, released when forgotten), a
blocked customer's orders refused at placement and cancelled ``customer_invalid`` by the saga,
``customer_facts`` from the write side, and the customers view (order count, lifetime value
per currency from old and new payment events) rebuilding to the live one."""

from __future__ import annotations

from functools import partial
from uuid import UUID, uuid4

import pytest

from commands import orders
from commands.context import CommandContext
from commands.customer_facts import GUEST, customer_facts, customer_facts_of
from commands.inventory import get as inventory_of
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from domain.customer import commands as cmd
from domain.errors import Conflict, InvalidCommand
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from projections.base import live_schema
from projections.customers import get_customer, list_customers
from tests.factories import active_product, send
from tests.integration.test_payment_order_ids import as_stored_before, paid_and_refunded
from tests.integration.test_projection_rebuild import snapshot
from tests.tables import differences

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def ctx() -> CommandContext:
    return CommandContext.new("tester")


def register(container, email: str | None = None, **fields) -> UUID:
    email = email or f"ann.{uuid4().hex[:10]}@example.com"
    done = send(container, cmd.RegisterCustomer(email=email, name="Ann Lee", **fields), ctx())
    return UUID(done.extra["id"])


def order_for(container, customer_id: UUID, sku: str, token: str = "tok_visa"):
    return send(
        container,
        PlaceOrder(
            customer_id=customer_id,
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token=token),
        ),
        ctx(),
    )


def test_an_email_is_claimed_whatever_its_case_and_a_refusal_writes_nothing(container):
    email = f"Mixed.{uuid4().hex[:10]}@Example.com"
    register(container, email)
    head = container.store.head()
    with pytest.raises(Conflict) as taken:
        register(container, email.upper())
    assert taken.value.code == "email_taken"
    with pytest.raises(InvalidCommand) as bad:
        register(container, "not-an-email")
    assert bad.value.code == "invalid_email"
    with pytest.raises(InvalidCommand) as segment:
        register(container, segment="platinum")
    assert segment.value.code == "unknown_segment"
    assert container.store.head() == head


def test_forgetting_a_customer_releases_their_email(container):
    email = f"gone.{uuid4().hex[:10]}@example.com"
    first = register(container, email)
    send(container, cmd.ForgetCustomer(customer_id=first), ctx())
    second = register(container, email.title())
    assert second != first
    with pytest.raises(Conflict):
        register(container, email)


def test_customer_facts_come_from_the_write_side(container):
    write = container.dispatcher.write
    assert customer_facts(write, uuid4()) == GUEST
    customer_id = register(container, segment="vip")
    facts = customer_facts(write, customer_id)
    assert (facts.registered, facts.status, facts.segment, facts.may_order) == (
        True, "active", "vip", True,
    )  # fmt: skip
    send(container, cmd.BlockCustomer(customer_id=customer_id, reason="fraud"), ctx())
    assert customer_facts(write, customer_id).status == "blocked"  # the cache moved on
    assert not customer_facts_of(write, [customer_id])[customer_id].may_order


def test_a_blocked_customer_cannot_order_until_unblocked(container):
    sku = active_product(container, price="4.00")[1]
    customer_id = register(container)
    send(container, cmd.BlockCustomer(customer_id=customer_id, reason="chargebacks"), ctx())
    head = container.store.head()
    with pytest.raises(InvalidCommand) as refused:
        order_for(container, customer_id, sku)
    assert refused.value.code == "customer_blocked"
    assert container.store.head() == head
    send(container, cmd.UnblockCustomer(customer_id=customer_id), ctx())
    assert order_for(container, customer_id, sku).extra["status"] == "pending"


def test_the_saga_cancels_an_order_whose_customer_was_blocked_after_placing(container):
    code = f"CU-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx())
    container.runner.catch_up(["locations"])
    sku = active_product(container, price="10.00")[1]
    send(container, ReceiveStock(sku=sku, location=code, quantity=5), ctx())
    blocked, fine = register(container), register(container)
    placed = [order_for(container, c, sku).stream_id for c in (blocked, fine)]
    send(container, cmd.BlockCustomer(customer_id=blocked, reason="fraud"), ctx())
    saga = OrderPlacementSaga(
        container.store,
        container.pool,
        container.gateway,
        customers=partial(customer_facts_of, container.dispatcher.write),
    )
    triggers = [Trigger("customer-test", container.store.load_with_positions(o)[0]) for o in placed]
    saga.handle_batch(triggers)
    cancelled, confirmed = (orders.get(container.store, o) for o in placed)
    assert cancelled.status == "cancelled"
    assert cancelled.cancellation_reason == "customer_invalid"
    assert confirmed.status == "confirmed"
    level = inventory_of(container.store, sku).levels[code]
    assert (level.on_hand, level.reserved) == (5, 1)  # the cancelled order held nothing


@pytest.fixture(scope="module")
def shopper(container):
    """A customer with two orders, one paid 20.00 and refunded 5.00 with events of schema 2,
    the other the same with events as stored before (schema 1, no order id)."""
    sku = active_product(container, price="10.00")[1]
    customer_id = register(container, phone="+15551234567")
    new, old = (order_for(container, customer_id, sku).stream_id for _ in "ab")
    paid_and_refunded(container, new)
    paid_and_refunded(container, old)
    as_stored_before(container, old)
    send(container, cmd.AddAddress(customer_id=customer_id, address=ADDRESS), ctx())
    send(container, cmd.GrantConsent(customer_id=customer_id, channel="email"), ctx())
    return customer_id


def test_the_view_counts_orders_and_sums_lifetime_value_per_currency(container, shopper):
    container.runner.catch_up(["customers"])
    doc = get_customer(container.pool, shopper)
    assert doc["order_count"] == 2
    assert doc["lifetime_value"] == [{"amount": "30.00", "currency": "USD"}]
    assert doc["phone"] == "+15551234567" and doc["status"] == "active"
    (address,) = doc["addresses"]
    assert address["default_shipping"] and address["default_billing"]
    assert address["address"]["line1"] == "1 Main St"
    assert doc["consents"]["email"]["granted"] and doc["consents"]["email"]["source"] == "tester"
    assert doc["consents"]["sms"]["granted"] is False
    rows, _ = list_customers(container.pool, email=doc["email"].upper())
    assert [r["id"] for r in rows] == [shopper]


def test_the_customers_view_rebuilds_to_the_live_one(container, shopper):
    blocked = register(container)
    send(container, cmd.BlockCustomer(customer_id=blocked, reason="x"), ctx())
    forgotten = register(container)
    send(container, cmd.ForgetCustomer(customer_id=forgotten), ctx())
    container.runner.catch_up(["customers"])
    before = snapshot(container.pool, live_schema("customers"))
    container.runner.rebuild("customers")
    after = snapshot(container.pool, live_schema("customers"))
    assert before["customers"] and before["lifetime_value"]
    for table in before:
        problem = differences(after[table], before[table])
        assert problem is None, f"customers.{table} differs after a rebuild: {problem}"
