"""Right to be forgotten: personal data is stored encrypted per customer; forgetting destroys the
key, and then the data appears nowhere (events read back, read models, a rebuild, an export)
while the log still replays and the hash chain still verifies."""

from __future__ import annotations

import io
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.export import export_events
from audit.verify import verify
from commands import orders
from commands.context import CommandContext
from domain.customer.commands import ForgetCustomer
from domain.order.commands import ModifyOrder, PlaceOrder, RequestedLine
from domain.order.values import Address, GiftOptions, PaymentRef
from eventstore.privacy import ERASED
from projections.order_detail import get_order
from projections.order_modifications import list_modifications
from projections.order_timeline import list_timeline
from tests.factories import active_product, send


def _secrets() -> tuple[str, ...]:
    """Unique per test: other tests' customers (not forgotten) hold the same kind of data."""
    t = uuid4().hex[:10]
    return (f"Zelda {t}", f"77 Lane {t}", f"Apt {t}", f"Qville {t}", f"QZ{t}", f"Dear Z {t}")


def _address(secrets: tuple[str, ...]) -> Address:
    return Address(
        name=secrets[0],
        line1=secrets[1],
        line2=secrets[2],
        city=secrets[3],
        postal_code=secrets[4],
        country="GB",
    )


@pytest.fixture
def placed(container):
    sku = active_product(container, price="10.00")[1]
    customer_id, secrets = uuid4(), _secrets()
    ids = []
    for _ in range(2):
        result = send(
            container,
            PlaceOrder(
                customer_id=customer_id,
                currency="USD",
                lines=[RequestedLine(sku=sku, quantity=1)],
                shipping_address=_address(secrets),
                billing_address=_address(secrets),
                gift=GiftOptions(wrap=True, message=secrets[5], recipient_name=secrets[0]),
                payment=PaymentRef(token="tok"),
            ),
            CommandContext.new("tester"),
        )
        ids.append(result.stream_id)
    moved = _secrets()
    send(
        container,
        ModifyOrder(order_id=ids[1], reason="customer moved", shipping_address=_address(moved)),
        CommandContext.new("tester"),
    )
    container.runner.catch_up()
    return customer_id, ids, (*secrets, *moved)


def _raw_states(container, stream_id) -> bytes:
    with container.pool.connection() as conn:
        rows = conn.execute(
            "SELECT state FROM stored_events WHERE originator_id = %s", (stream_id,)
        ).fetchall()
    return b"".join(bytes(r[0]) for r in rows)


def _summary(container, order_id) -> str:
    with container.pool.connection() as conn:
        row = conn.execute(
            "SELECT doc::text FROM rm_order_summaries.order_summaries WHERE id = %s", (order_id,)
        ).fetchone()
    return row[0]


def _contains(secrets: tuple[str, ...], blob: bytes | str) -> bool:
    text = blob if isinstance(blob, str) else blob.decode()
    return any(s in text for s in secrets)


def _export(container) -> bytes:
    out = io.BytesIO()
    export_events(container.pool, Ed25519PrivateKey.generate(), out, now_ms=0)
    return out.getvalue()


def test_personal_data_is_stored_encrypted_and_read_back_in_clear(container, placed):
    _, ids, secrets = placed
    assert not _contains(secrets, _raw_states(container, ids[0]))
    assert not _contains(secrets, _raw_states(container, ids[1]))  # the address change too
    moved = orders.get(container.store, ids[1]).shipping_address.name
    assert moved == secrets[6]
    state = orders.get(container.store, ids[0])
    assert state.shipping_address.name == secrets[0]
    assert get_order(container.pool, ids[0])["shipping_address"]["line1"] == secrets[1]
    assert _contains(secrets, str(list_timeline(container.pool, ids[0])))


def test_after_forget_the_data_is_gone_everywhere_and_the_log_still_verifies(container, placed):
    customer_id, ids, secrets = placed
    container.chainer.catch_up()
    before = verify(container.pool)
    assert before.ok
    send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))
    container.runner.catch_up()

    for order_id in ids:
        state = orders.get(container.store, order_id)  # the log still replays
        assert state.shipping_address.name == ERASED
        assert state.shipping_address.country == "GB"
        doc = get_order(container.pool, order_id)  # scrubbed at once, no rebuild needed
        assert not _contains(secrets, str(doc))
        assert doc["gift"]["message"] == ERASED
        events = container.store.load_with_positions(order_id)
        assert not _contains(secrets, str([e.data for e in events]))
        assert not _contains(secrets, str(list_timeline(container.pool, order_id)))
        assert not _contains(secrets, str(list_modifications(container.pool, order_id)))
    assert not _contains(secrets, _export(container))

    scrubbed = [get_order(container.pool, order_id) for order_id in ids]
    container.runner.rebuild("order_detail")
    container.runner.rebuild("order_timeline")
    container.runner.rebuild("order_modifications")
    assert [get_order(container.pool, order_id) for order_id in ids] == scrubbed
    for order_id in ids:
        assert not _contains(secrets, str(get_order(container.pool, order_id)))
        assert not _contains(secrets, str(list_timeline(container.pool, order_id)))
        assert not _contains(secrets, str(list_modifications(container.pool, order_id)))
        assert not _contains(secrets, _summary(container, order_id))
        assert get_order(container.pool, order_id)["shipping_address"]["name"] == ERASED

    container.chainer.catch_up()
    after = verify(container.pool)
    assert after.ok and after.events_checked > before.events_checked


def test_forgetting_twice_writes_one_event(container, placed):
    customer_id, _, secrets = placed
    first = send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))
    second = send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))
    assert second.version == first.version == 1
    container.runner.catch_up()  # leave the views scrubbed for the tests that follow


def test_an_order_placed_after_forget_stores_no_personal_data(container, placed):
    customer_id, _, secrets = placed
    send(container, ForgetCustomer(customer_id=customer_id), CommandContext.new("dpo"))
    sku = active_product(container, price="5.00")[1]
    result = send(
        container,
        PlaceOrder(
            customer_id=customer_id,
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=_address(secrets),
            payment=PaymentRef(token="tok"),
        ),
        CommandContext.new("tester"),
    )
    assert not _contains(secrets, _raw_states(container, result.stream_id))
    assert orders.get(container.store, result.stream_id).shipping_address.name == ERASED
    container.runner.catch_up()
