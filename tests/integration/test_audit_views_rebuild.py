"""The analytics and privacy read models rebuilt from the store equal the live ones, row for
row (after forgetting a customer too)."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from commands.context import CommandContext
from domain.customer.commands import ForgetCustomer
from domain.order.commands import CancelOrder, PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from projections.analytics_views import VIEWS
from tests.factories import active_product, priced, send
from tests.integration.test_order_views_rebuild import snapshot


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_a_rebuilt_audit_or_analytics_view_equals_the_live_one(container, view):
    sku = active_product(container, price="7.25", currency="EUR")[1]
    ctx = CommandContext.new("rebuilder")
    customer_id = uuid4()
    for i in range(3):
        result = send(
            priced(
                container,
                tax=FlatRateTax(Decimal("0.2")),
                shipping=FlatRateShipping(Decimal("4"), Decimal("50")),
            ),
            PlaceOrder(
                customer_id=customer_id,
                currency="EUR",
                lines=[RequestedLine(sku=sku, quantity=i + 1)],
                shipping_address=Address(
                    name="R", line1="1", city="C", postal_code="P", country="FR"
                ),
                payment=PaymentRef(token="tok"),
            ),
            ctx,
        )
        if i == 0:
            send(container, CancelOrder(order_id=result.stream_id, reason="customer_request"), ctx)
    send(container, ForgetCustomer(customer_id=customer_id), ctx)
    container.runner.catch_up()
    live = snapshot(container, view)
    container.runner.rebuild(view.name)
    assert snapshot(container, view) == live
