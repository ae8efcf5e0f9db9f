"""Each fulfillment workflow runs once, in the fulfillment process manager.

Against a server without process managers, a request records only its intent on its own
aggregate and answers at once: a tracking event or a delivery attempt writes the shipment's
events and the order's copy, an approval ``CancellationReviewed``, a split ``OrderSplit`` and
the children's ``OrderPlaced``; no step of the workflow and no payment-gateway call. The manager
(run here in the test's process) then does each step, and running it again over the same
events writes nothing. Against a server running its managers, the steps of a dispatch and a
delivery each appear exactly once in the streams."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import pytest

from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from domain.ids import inventory_stream, payment_stream, plan_stream
from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_fulfillment_api import (
    deliver,
    dispatch,
    location,
    place_lines,
    ship,
    stream_events,
)
from tests.e2e.test_order_saga import settled, stocked_sku
from tests.fulfillment_manager import carry_out


def _confirmed_here(api, container, sku: str, quantity: int) -> dict:  # noqa: ANN001
    """An order placed over HTTP and confirmed by the placement saga run in this process (the
    server runs no process manager)."""
    order_id = place_lines(api, [(sku, quantity)])
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)
    saga.handle(Trigger("test", container.store.load_with_positions(UUID(order_id))[0]))
    r = api.get(f"/orders/{order_id}", params={"min_position": container.store.head()})
    assert r.json()["status"] == "confirmed", r.json()
    return r.json()


def _written_since(container, position: int) -> Counter[str]:  # noqa: ANN001
    return Counter(e.type for e in container.store.read_all(after=position, limit=1000))


def _gateway_calls(container) -> int:  # noqa: ANN001
    with container.pool.connection() as conn:
        return conn.execute("SELECT count(*) FROM gateway_idempotency").fetchone()[0]


def _names(container, stream_id: UUID) -> Counter[str]:  # noqa: ANN001
    return Counter(e.name for e in container.store.load(stream_id))


def test_a_request_records_only_its_intent_and_the_manager_does_each_step_once(api, container):
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 10))
    shipped, cancelled, split = (_confirmed_here(api, container, sku, q) for q in (1, 1, 2))
    start, calls = container.store.head(), _gateway_calls(container)

    # A dispatch: the shipment's events and the order's copy of the tracking event, nothing else.
    line_id = shipped["lines"][0]["line_id"]
    shipment = ship(api, shipped["id"], wh, line_id, 1).json()
    before = container.store.head()
    r = api.post(f"/shipments/{shipment['id']}/events", json={"status": "picked_up"})
    assert r.status_code == 201 and r.json()["status"] == "shipped", r.text
    assert r.json()["position"] == container.store.head()
    assert _written_since(container, before) == Counter(
        {
            "shipment.ShipmentTrackingUpdated": 1,
            "shipment.ShipmentDispatched": 1,
            "order.ShipmentTrackingUpdated": 1,
        }
    )
    # A delivery: the attempt, the shipment delivered, the order's copy of the attempt.
    before = container.store.head()
    r = api.post(f"/shipments/{shipment['id']}/delivery-attempts", json={"outcome": "successful"})
    assert r.status_code == 201 and r.json()["status"] == "delivered", r.text
    assert _written_since(container, before) == Counter(
        {
            "shipment.DeliveryAttemptRecorded": 1,
            "shipment.ShipmentDelivered": 1,
            "order.DeliveryAttemptRecorded": 1,
        }
    )
    # An approval: the review, answered 202 with the status recorded so far.
    r = api.post(
        f"/orders/{cancelled['id']}/cancellation-requests", json={"reason": "customer_request"}
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    before = container.store.head()
    r = api.post(f"/cancellation-requests/{request_id}/approve", json={"note": "ok"})
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["position"]) == ("approved", container.store.head())
    assert _written_since(container, before) == Counter({"order.CancellationReviewed": 1})
    # A split: the parent's OrderSplit and each child's OrderPlaced.
    [line] = split["lines"]
    before = container.store.head()
    part = {"location": wh, "lines": [{"line_id": line["line_id"], "quantity": 1}]}
    r = api.post(
        f"/orders/{split['id']}/splits", json={"reason": "two boxes", "parts": [part, part]}
    )
    assert r.status_code == 201, r.text
    assert _written_since(container, before) == Counter(
        {"order.OrderSplit": 1, "order.OrderPlaced": 2}
    )
    assert _gateway_calls(container) == calls  # no capture, void or refund was asked for

    # The manager does the steps; run again over the same events, it writes nothing.
    done = carry_out(container.store, container.gateway, start)
    assert done > r.json()["position"]
    assert carry_out(container.store, container.gateway, start) == done
    order = _names(container, UUID(shipped["id"]))
    assert (order["LinesShipped"], order["LinesDelivered"]) == (1, 1)
    assert _names(container, payment_stream(UUID(shipped["id"])))["PaymentCaptured"] == 1
    order = _names(container, UUID(cancelled["id"]))
    assert (order["OrderCancelled"], order["CancellationCompleted"]) == (1, 1)
    assert _names(container, payment_stream(UUID(cancelled["id"])))["AuthorizationVoided"] == 1
    assert _names(container, payment_stream(UUID(split["id"])))["AuthorizationVoided"] == 1
    stock = _names(container, inventory_stream(sku))
    assert stock["StockCommitted"] == 1
    assert stock["ReservationReleased"] == 2  # the cancelled order's and the split parent's
    plan = _names(container, plan_stream(UUID(cancelled["id"]), wh))
    assert plan["PlanStatusChanged"] == 1  # cancelled once


@pytest.fixture(scope="module")
def papi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def test_a_dispatch_and_a_delivery_write_each_step_once(papi, container):
    wh = location(papi, 1)
    sku = stocked_sku(container, papi, (wh, 10))
    order = settled(papi, place_lines(papi, [(sku, 2)]))
    order_id, line_id = order["id"], order["lines"][0]["line_id"]
    shipment = dispatch(papi, order_id, wh, line_id, 2)
    # a repeated pick-up is recorded on the shipment and leads to no second dispatch
    r = papi.post(f"/shipments/{shipment['id']}/events", json={"status": "picked_up"})
    assert r.status_code == 201 and r.json()["status"] == "shipped"
    deliver(papi, shipment["id"])
    types = Counter(e["type"] for e in stream_events(papi, order_id))
    assert (types["order.LinesShipped"], types["order.LinesDelivered"]) == (1, 1)
    pay = Counter(e["type"] for e in stream_events(papi, payment_stream(UUID(order_id))))
    assert pay["payment.PaymentCaptured"] == 1
    stock = [
        e
        for e in stream_events(papi, inventory_stream(sku))
        if e["type"] == "inventory.StockCommitted"
    ]
    assert len(stock) == 1 and stock[0]["data"]["quantity"] == 2
