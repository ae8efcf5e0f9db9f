"""Personal data stays encrypted on Kafka: the relay publishes what the store holds (personal
leaves as ciphertext under the customer's key) and consumers decrypt with the key ring when they
decode, so once the customer is forgotten a consumer reads the erased marker, as the store's
own readers do, while the other fields stay readable."""

from __future__ import annotations

import threading
from uuid import uuid4

import orjson
from psycopg import sql

from commands.context import CommandContext
from domain.customer.commands import ForgetCustomer
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from eventstore.privacy import ERASED
from projections.order_detail import OrderDetailView
from scaleout import dead_letters
from scaleout.consumer import KafkaProjector
from scaleout.decode import decode
from scaleout.relay import Relay
from tests.factories import active_product, send
from tests.kafka.conftest import unique
from tests.kafka.helpers import in_thread, read_topic, topic, wait_until


def _detail(pool, schema: str, order_id) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(
            sql.SQL("SELECT doc FROM {}.order_detail WHERE id = %s").format(sql.Identifier(schema)),
            (order_id,),
        ).fetchone()
    return row[0] if row else None


def test_kafka_holds_only_ciphertext_and_a_consumer_reads_erased_after_forget(container, broker):
    # Given an order whose shipping address is a customer's personal data, relayed to Kafka
    sku = active_product(container, price="10.00")[1]
    customer_id, t = uuid4(), uuid4().hex[:10]
    name, line1 = f"Zelda {t}", f"77 Lane {t}"
    start = container.store.head()
    order_id = send(
        container,
        PlaceOrder(
            customer_id=customer_id,
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=Address(
                name=name, line1=line1, city="Qville", postal_code=f"QZ{t}", country="GB"
            ),
            payment=PaymentRef(token="tok"),
        ),
        CommandContext.new("tester"),
    ).stream_id
    prefix, group = unique("pd-"), unique("g-pd-")
    Relay(container.pool, broker.bootstrap, prefix=prefix, partitions=1, start_position=start).run(
        until_caught_up=True
    )

    # Then the raw message holds no clear personal value, but its other fields are readable
    values = [
        v
        for *_, v in read_topic(broker.bootstrap, topic(prefix, "order"), idle_s=1.0)
        if orjson.loads(v)["stream_id"] == str(order_id)
    ]
    assert values
    placed = values[0]
    assert name.encode() not in placed and line1.encode() not in placed and t.encode() not in placed
    env = orjson.loads(placed)
    assert env["type"] == "order.OrderPlaced"
    assert env["personal_data_subject"] == str(customer_id)
    assert env["data"]["customer_id"] == str(customer_id)
    assert env["data"]["currency"] == "USD"
    assert env["data"]["total"] == {"amount": "10.00", "currency": "USD"}
    assert env["data"]["shipping_address"]["country"] == "GB"
    assert set(env["data"]["shipping_address"]["name"]) == {"$pd"}
    # and a consumer with the key decrypts it when it decodes
    mapper = container.store.mapper
    assert decode(mapper, placed).data["shipping_address"]["name"] == name

    # When the customer is forgotten
    send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))

    # Then the same message decodes to the erased form; the other fields are unchanged
    event = decode(mapper, placed)
    assert event.data["shipping_address"]["name"] == ERASED
    assert event.data["shipping_address"]["line1"] == ERASED
    assert event.data["shipping_address"]["country"] == "GB"
    assert event.data["total"] == {"amount": "10.00", "currency": "USD"}
    assert event.to_domain().shipping_address.name == ERASED

    # and a projector group reading the topic now builds the order, erased, parking nothing
    projector = KafkaProjector(
        container.pool, mapper, [OrderDetailView()], broker.bootstrap, group, prefix=prefix
    )
    projector.ensure_schemas()
    stop = threading.Event()
    thread = in_thread(projector.run, until=stop.is_set)
    schema = projector.schema("order_detail")
    try:
        wait_until(lambda: _detail(container.pool, schema, order_id) is not None, 60, "the order")
    finally:
        stop.set()
        thread.join(30)
    doc = _detail(container.pool, schema, order_id)
    assert doc["shipping_address"]["name"] == ERASED
    assert doc["shipping_address"]["country"] == "GB"
    assert name not in str(doc) and line1 not in str(doc)
    assert dead_letters.list_dead_letters(container.pool, group, None, limit=100) == []
