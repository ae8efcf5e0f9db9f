"""Forgetting a customer scrubs a Kafka group's read models too: ``privacy_erasure`` run by a
consumer group (schema ``rk_<group>__privacy_erasure``) scrubs that group's own copies
(``rk_<group>__order_detail``) written before the forget, as the in-process one scrubs the
``rm_*`` views. Real tansu broker, real relay and consumer, real PostgreSQL."""

from __future__ import annotations

import threading
from uuid import uuid4

from commands.context import CommandContext
from domain.customer.commands import ForgetCustomer
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from eventstore.privacy import ERASED
from projections.order_detail import OrderDetailView
from projections.privacy_erasure import PrivacyErasureView, sibling_schemas
from scaleout import dead_letters
from scaleout.consumer import KafkaProjector
from scaleout.relay import Relay
from tests.factories import active_product, send
from tests.kafka.conftest import unique
from tests.kafka.helpers import in_thread, wait_until
from tests.kafka.test_personal_data import _detail


def test_sibling_schemas_follow_the_schema_the_view_is_applied_into():
    assert sibling_schemas("rk_g_1__privacy_erasure")("order_detail") == "rk_g_1__order_detail"
    assert sibling_schemas("rm_privacy_erasure")("order_detail") == "rm_order_detail"


def test_a_groups_order_read_model_written_before_a_forget_is_scrubbed(container, broker):
    # Given a customer's order, relayed to Kafka and built by a group into its order view
    sku = active_product(container, price="10.00")[1]
    customer_id, t = uuid4(), uuid4().hex[:10]
    name, line1 = f"Yara {t}", f"12 Road {t}"
    start = container.store.head()
    order_id = send(
        container,
        PlaceOrder(
            customer_id=customer_id,
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=Address(
                name=name, line1=line1, city="Pville", postal_code=f"P{t}", country="GB"
            ),
            payment=PaymentRef(token="tok"),
        ),
        CommandContext.new("tester"),
    ).stream_id
    prefix, group = unique("fg-"), unique("g-fg-")
    relay = Relay(container.pool, broker.bootstrap, prefix=prefix, partitions=1,
                  start_position=start)  # fmt: skip
    relay.run(until_caught_up=True)
    projector = KafkaProjector(
        container.pool, container.store.mapper, [OrderDetailView(), PrivacyErasureView()],
        broker.bootstrap, group, prefix=prefix,
    )  # fmt: skip
    projector.ensure_schemas()
    schema = projector.schema("order_detail")
    stop = threading.Event()
    thread = in_thread(projector.run, until=stop.is_set)
    try:
        wait_until(lambda: _detail(container.pool, schema, order_id) is not None, 60, "the order")
        doc = _detail(container.pool, schema, order_id)
        assert doc["shipping_address"]["name"] == name  # a clear copy, read before the forget

        # When the customer is forgotten and the group reads CustomerForgotten
        send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))
        Relay(container.pool, broker.bootstrap, prefix=prefix, partitions=1,
              start_position=start).run(until_caught_up=True)  # fmt: skip

        # Then the group's order view no longer holds the name; other fields are kept
        wait_until(
            lambda: _detail(container.pool, schema, order_id)["shipping_address"]["name"] == ERASED,
            60,
            "the group's copy scrubbed",
        )
    finally:
        stop.set()
        thread.join(30)
    doc = _detail(container.pool, schema, order_id)
    assert name not in str(doc) and line1 not in str(doc) and t not in str(doc)
    assert doc["shipping_address"]["country"] == "GB"
    assert doc["total"] == {"amount": "10.00", "currency": "USD"}
    assert dead_letters.list_dead_letters(container.pool, group, None, limit=100) == []
