"""The write side's one load path (``commands/stream_states.py``) reads the streams of several
aggregates in one query (``load_together``), and a decision that says when its request began
is served from what a read begun since found: a placement reads its customer's and products'
new events once, and still decides on every change committed before its request began."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

from commands.context import CommandContext
from commands.customer_facts import customer_facts
from commands.stream_states import load_together
from domain.customer.state import CUSTOMER_STANDING
from domain.money import Money
from domain.product.commands import ChangePrice
from domain.product.state import PRODUCT
from tests.factories import active_product, send, write_of


class _CountedLoads:
    """The store, counting ``load_many`` calls (each still reads the database)."""

    def __init__(self, store):
        self.store, self.reads = store, 0

    def load_many(self, after):
        self.reads += 1
        return self.store.load_many(after)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_customer_and_products_load_in_one_read_and_serve_the_request_begun_before_it(
    container,
):
    w = write_of(container)
    first, _ = active_product(container, price="10.00")
    second, _ = active_product(container, price="20.00")
    customer = uuid4()  # a guest: no stream
    counted = _CountedLoads(container.store)
    # Given a request that began, and one read of its customer's and products' streams
    began = time.monotonic()
    loads = [
        (CUSTOMER_STANDING, [customer], w.customers),
        (PRODUCT, [first, second], w.products.cache),
    ]
    customers, products = load_together(counted, loads)
    assert counted.reads == 1
    assert products[first].state.price.amount == Decimal("10.00")
    assert not customers[customer].state.registered
    # When the decision reads them again, saying when its request began
    again = load_together(counted, [(PRODUCT, [first, second], w.products.cache)], since=began)[0]
    facts = customer_facts(replace(w, store=counted), customer, since=began)
    # Then the states come from that read: no query
    assert counted.reads == 1 and again[second].state.price.amount == Decimal("20.00")
    assert facts.status == "active" and not facts.registered
    # And a price changed after it is seen by a request that begins after the change
    change = ChangePrice(product_id=first, price=Money.of(Decimal("11.00"), "USD"), reason="t")
    send(container, change, CommandContext.new())
    later = time.monotonic()
    fresh = load_together(counted, [(PRODUCT, [first], w.products.cache)], since=later)[0]
    assert counted.reads == 2 and fresh[first].state.price.amount == Decimal("11.00")
