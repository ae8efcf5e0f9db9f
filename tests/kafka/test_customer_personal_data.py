"""A registered customer's personal data on Kafka: the relay publishes the customer's events
and their orders' with email, name, phone and addresses as ciphertext (never clear text), the
other fields readable; once the customer is forgotten the same messages decode erased. Real
tansu broker, real relay, real PostgreSQL."""

from __future__ import annotations

from uuid import UUID, uuid4

import orjson

from commands.context import CommandContext
from domain.customer import commands as cmd
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from eventstore.privacy import ERASED
from scaleout.decode import decode
from scaleout.relay import Relay
from tests.factories import active_product, send
from tests.kafka.conftest import unique
from tests.kafka.helpers import read_topic, topic


def test_the_relay_publishes_a_customers_personal_data_as_ciphertext_only(container, broker):
    t = uuid4().hex[:10]
    email, name, phone = f"yara.{t}@example.com", f"Yara {t}", "+447700900555"
    line1, city = f"12 Road {t}", f"Pville {t}"
    ctx = CommandContext.new("tester")
    start = container.store.head()
    cid = UUID(send(container, cmd.RegisterCustomer(email=email, name=name, phone=phone),
                    ctx).extra["id"])  # fmt: skip
    address = Address(name=name, line1=line1, city=city, postal_code="P1", country="GB")
    send(container, cmd.AddAddress(customer_id=cid, address=address), ctx)
    send(container, cmd.UpdateProfile(customer_id=cid, name=f"Yana {t}"), ctx)
    sku = active_product(container, price="10.00")[1]
    order_id = send(
        container,
        PlaceOrder(customer_id=cid, currency="USD", lines=[RequestedLine(sku=sku, quantity=1)],
                   shipping_address=address, payment=PaymentRef(token="tok")),
        ctx,
    ).stream_id  # fmt: skip
    prefix = unique("cpd-")
    Relay(container.pool, broker.bootstrap, prefix=prefix, partitions=1, start_position=start).run(
        until_caught_up=True
    )

    def messages(stream_type: str, stream_id: UUID) -> list[bytes]:
        return [
            v
            for *_, v in read_topic(broker.bootstrap, topic(prefix, stream_type), idle_s=1.0)
            if orjson.loads(v)["stream_id"] == str(stream_id)
        ]

    customer, placed = messages("customer", cid), messages("order", order_id)
    assert len(customer) == 3 and len(placed) == 1
    for raw in (*customer, *placed):
        assert t.encode() not in raw and phone.encode() not in raw, raw
        assert orjson.loads(raw)["personal_data_subject"] == str(cid)
    registered = orjson.loads(customer[0])
    assert registered["type"] == "customer.CustomerRegistered"
    assert {k: set(registered["data"][k]) for k in ("email", "name", "phone")} == {
        "email": {"$pd"}, "name": {"$pd"}, "phone": {"$pd"},
    }  # fmt: skip
    assert registered["data"]["segment"] == "standard"
    added = orjson.loads(customer[1])["data"]
    assert set(added["address"]["line1"]) == {"$pd"} and added["address"]["country"] == "GB"
    # a consumer holding the key reads them
    mapper = container.store.mapper
    assert decode(mapper, customer[0]).data["email"] == email
    assert decode(mapper, customer[2]).data["name"] == {"old": name, "new": f"Yana {t}"}

    send(container, cmd.ForgetCustomer(customer_id=cid), ctx)

    forgotten = decode(mapper, customer[0]).data
    assert (forgotten["email"], forgotten["name"], forgotten["phone"]) == (ERASED,) * 3
    assert decode(mapper, customer[1]).data["address"]["line1"] == ERASED
    assert decode(mapper, customer[2]).data["name"] == {"old": ERASED, "new": ERASED}
    order = decode(mapper, placed[0]).data
    assert order["shipping_address"]["city"] == ERASED
    assert order["total"] == {"amount": "10.00", "currency": "USD"}
