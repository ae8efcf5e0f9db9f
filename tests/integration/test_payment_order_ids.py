"""``PaymentCaptured`` and ``RefundSucceeded`` name their order from schema version 2 on; events
stored before (version 1, without ``order_id``) still read back (``order_id`` None) and the
views that fold them, live and rebuilt, show the same money for both."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import orjson
import pytest

from commands.context import CommandContext
from domain.ids import payment_stream
from domain.order.commands import RequestedLine
from domain.payment.events import (
    PaymentAuthorized,
    PaymentCaptured,
    RefundRequested,
    RefundSucceeded,
)
from eventstore.store import StreamAppend
from projections.base import live_schema
from projections.order_detail import get_order
from projections.payments_ledger import ledger
from tests.factories import active_product
from tests.integration.test_order_commands import place
from tests.integration.test_projection_rebuild import snapshot
from tests.tables import differences

VIEWS = ("payments_ledger", "order_detail", "analytics_orders")


def paid_and_refunded(container, order_id: UUID) -> None:
    """An authorization of 20.00, a capture of 20.00 and a refund of 5.00 on the order's
    payment stream, as the payment decisions write them."""
    refund_id = uuid4()
    events = [
        PaymentAuthorized(order_id=order_id, amount=Decimal("20.00"), currency="USD",
                          gateway="sandbox", gateway_reference="a", idempotency_key="k"),
        PaymentCaptured(order_id=order_id, capture_id=uuid4(), amount=Decimal("20.00"),
                        gateway_reference="c"),
        RefundRequested(refund_id=refund_id, amount=Decimal("5.00"), reason="damaged"),
        RefundSucceeded(order_id=order_id, refund_id=refund_id, amount=Decimal("5.00"),
                        reason="damaged", gateway_reference="r"),
    ]  # fmt: skip
    meta = CommandContext.new("tester").meta()
    container.store.append([StreamAppend(payment_stream(order_id), 0, events)], meta)


def as_stored_before(container, order_id: UUID) -> None:
    """Rewrite the stream's captures and refunds as the earlier code stored them: version 1,
    no ``order_id`` (with the database owner's powers, as history written then)."""
    stream = payment_stream(order_id)
    topics = ["payment.PaymentCaptured", "payment.RefundSucceeded"]
    with container.pool.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        rows = conn.execute(
            "SELECT notification_id, state FROM stored_events "
            "WHERE originator_id = %s AND topic = ANY(%s)",
            (stream, topics),
        ).fetchall()
        assert len(rows) == 2
        for row in rows:
            position, state = (row["notification_id"], row["state"]) if isinstance(row, dict) \
                else row  # fmt: skip
            body = orjson.loads(bytes(state))
            body["v"] = 1
            del body["d"]["order_id"]
            conn.execute(
                "UPDATE stored_events SET state = %s WHERE notification_id = %s",
                (orjson.dumps(body), position),
            )


@pytest.fixture(scope="module")
def orders(container):
    sku = active_product(container, price="10.00")[1]
    new, old = (place(container, [RequestedLine(sku=sku, quantity=2)]).stream_id for _ in "ab")
    paid_and_refunded(container, new)
    paid_and_refunded(container, old)
    as_stored_before(container, old)
    return new, old


def test_new_events_name_their_order_and_old_ones_read_back_without_one(container, orders):
    new, old = orders
    for order_id, expected in ((new, new), (old, None)):
        money = [
            e
            for e in container.store.load(payment_stream(order_id))
            if e.name in ("PaymentCaptured", "RefundSucceeded")
        ]
        assert [e.schema_version for e in money] == [2, 2]
        assert [e.to_domain().order_id for e in money] == [expected, expected]


def test_the_ledger_and_the_order_show_the_same_money_for_old_and_new_events(container, orders):
    container.runner.catch_up(["payments_ledger"])
    new, old = (ledger(container.pool, o) for o in orders)
    for doc in (new, old):
        assert (doc["captured"], doc["refunded"]) == ("20.00", "5.00"), doc
        assert [r["status"] for r in doc["refunds"]] == ["succeeded"], doc
    container.runner.catch_up(["order_detail"])
    docs = [get_order(container.pool, o) for o in orders]
    assert [d["payment_status"] for d in docs] == ["partially_refunded"] * 2, docs


@pytest.mark.parametrize("name", VIEWS)
def test_a_view_reading_old_and_new_events_rebuilds_to_the_live_one(container, orders, name):
    container.runner.catch_up([name])
    before = snapshot(container.pool, live_schema(name))
    container.runner.rebuild(name)
    after = snapshot(container.pool, live_schema(name))
    for table in before:
        problem = differences(after[table], before[table])
        assert problem is None, f"{name}.{table} differs after a rebuild: {problem}"
