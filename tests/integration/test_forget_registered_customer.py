"""Forgetting a registered customer: their email, name, phone and addresses (on the customer
stream and on their orders) are unreadable in every read model (every table of every ``rm_``
schema, the customers view rebuilt too), in the events read back and in the audit export,
while the log still verifies and the money figures (order totals, lifetime value) remain."""

from __future__ import annotations

import io
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from audit.export import export_events
from audit.verify import verify
from commands import orders
from commands.context import CommandContext
from domain.customer import commands as cmd
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from eventstore.privacy import ERASED
from projections.customers import get_customer
from projections.order_detail import get_order
from tests.factories import active_product, send
from tests.integration.test_payment_order_ids import paid_and_refunded


def ctx() -> CommandContext:
    return CommandContext.new("dpo")


def every_view_as_text(container) -> str:
    """Every row of every table of every live read model, as text."""
    out = []
    with container.pool.connection() as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname LIKE 'rm\\_%' "
            "AND schemaname NOT LIKE '%\\_\\_%'"
        ).fetchall()
        for row in tables:
            schema, table = (row["schemaname"], row["tablename"]) if isinstance(row, dict) \
                else row  # fmt: skip
            query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            out += [str(r) for r in conn.execute(query).fetchall()]
    return "\n".join(out)


def exported(container) -> str:
    out = io.BytesIO()
    export_events(container.pool, container.tree.key, out, now_ms=0)
    return out.getvalue().decode()


@pytest.fixture
def customer(container):
    t = uuid4().hex[:10]
    secrets = {
        "email": f"zelda.{t}@example.com",
        "name": f"Zelda {t}",
        "renamed": f"Zora {t}",
        "phone": f"+4477009{int(t[:5], 16) % 100000:05d}",
        "line1": f"77 Lane {t}",
        "city": f"Qville {t}",
        "postal": f"QZ{t[:8]}",
        "reason": f"Zelda's chargebacks {t}",
    }
    done = send(
        container,
        cmd.RegisterCustomer(email=secrets["email"], name=secrets["name"], phone=secrets["phone"]),
        ctx(),
    )
    cid = UUID(done.extra["id"])
    address = Address(name=secrets["name"], line1=secrets["line1"], city=secrets["city"],
                      postal_code=secrets["postal"], country="GB")  # fmt: skip
    for command in (
        cmd.AddAddress(customer_id=cid, address=address),
        cmd.UpdateProfile(customer_id=cid, name=secrets["renamed"], reason=secrets["reason"]),
        cmd.BlockCustomer(customer_id=cid, reason=secrets["reason"]),
        cmd.UnblockCustomer(customer_id=cid),
    ):
        send(container, command, ctx())
    sku = active_product(container, price="10.00")[1]
    order_ids = [
        send(
            container,
            PlaceOrder(customer_id=cid, currency="USD", lines=[RequestedLine(sku=sku, quantity=2)],
                       shipping_address=address, billing_address=address,
                       payment=PaymentRef(token="tok")),
            ctx(),
        ).stream_id
        for _ in range(2)
    ]  # fmt: skip
    paid_and_refunded(container, order_ids[0])
    container.runner.catch_up()
    return cid, order_ids, set(secrets.values())


def leaks(secrets: set[str], text: str) -> list[str]:
    return sorted(s for s in secrets if s in text or s.lower() in text.lower())


def test_a_forgotten_customer_is_unreadable_everywhere_and_the_money_remains(container, customer):
    cid, order_ids, secrets = customer
    # given: the personal data is readable before (so the checks below can fail)
    assert leaks(secrets, every_view_as_text(container))
    # the audit export carries personal data as the log stores it, encrypted, before and after
    assert leaks(secrets, exported(container)) == []
    totals = [get_order(container.pool, o)["total"] for o in order_ids]
    before = get_customer(container.pool, cid)
    assert before["lifetime_value"] == [{"amount": "15.00", "currency": "USD"}]
    container.chainer.catch_up()
    assert verify(container.pool).ok

    # when
    send(container, cmd.ForgetCustomer(customer_id=cid), ctx())
    container.runner.catch_up()

    # then: no view, no event read back, no export holds any of it
    assert leaks(secrets, every_view_as_text(container)) == []
    assert leaks(secrets, exported(container)) == []
    for stream in (cid, *order_ids):
        assert leaks(secrets, str([e.data for e in container.store.load(stream)])) == []
    doc = get_customer(container.pool, cid)
    assert (doc["email"], doc["name"], doc["phone"], doc["status"]) == (
        ERASED, ERASED, ERASED, "forgotten",
    )  # fmt: skip
    assert doc["addresses"][0]["address"]["line1"] == ERASED
    assert doc["addresses"][0]["address"]["country"] == "GB"
    assert orders.get(container.store, order_ids[0]).billing_address.city == ERASED
    # the money stays
    assert [get_order(container.pool, o)["total"] for o in order_ids] == totals
    assert (doc["order_count"], doc["lifetime_value"]) == (2, before["lifetime_value"])
    # a rebuild reads the events erased
    container.runner.rebuild("customers")
    assert get_customer(container.pool, cid) == doc
    assert leaks(secrets, every_view_as_text(container)) == []
    # and the log still verifies
    container.chainer.catch_up()
    report = verify(container.pool)
    assert report.ok, report
