"""An order's timeline joins everything about the order, over HTTP, across its whole life
(placed, paid, shipped with carrier events, delivered, returned, refunded): its own stream's
events and those of its payment, shipment and return streams, each naming its stream type
and event type, in position order; equal to those streams' events read from the log."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.ids import payment_stream
from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_fulfillment_api import confirmed, deliver, dispatch, receive
from tests.e2e.views import views_reach_the_head


@pytest.fixture(scope="module")
def tapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def lifecycle(api, container) -> dict:  # noqa: ANN001
    """An order placed, paid, shipped (a carrier event on the way), delivered, returned and
    refunded; its ids and the head once every view has seen it all."""
    wh, _skus, order = confirmed(api, container, 2)
    line_id = order["lines"][0]["line_id"]
    shipment = dispatch(api, order["id"], wh, line_id, 2)
    r = api.post(f"/shipments/{shipment['id']}/events",
                 json={"status": "in_transit", "note": "hub"})  # fmt: skip
    assert r.status_code == 201, r.text
    deliver(api, shipment["id"])
    body = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "too big"}
    r = api.post(f"/orders/{order['id']}/returns", json=body)
    assert r.status_code == 201, r.text
    returned = receive(api, r.json()["id"], restock=False)
    assert returned["refund"] == "succeeded", returned
    return {
        "order_id": order["id"],
        "shipment_id": shipment["id"],
        "return_id": returned["id"],
        "head": views_reach_the_head(api),
    }


@pytest.fixture(scope="module")
def lived(tapi, container):
    return lifecycle(tapi, container)


def timeline(api, order_id: str, **params) -> list[dict]:  # noqa: ANN003
    r = api.get(f"/orders/{order_id}/timeline", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_timeline_shows_captures_refunds_shipment_and_return_events(tapi, lived):
    entries = timeline(tapi, lived["order_id"], min_position=lived["head"])
    kinds = {(e["stream_type"], e["event_type"]) for e in entries}
    assert kinds >= {
        ("order", "order.OrderPlaced"),
        ("order", "order.OrderConfirmed"),
        ("payment", "payment.PaymentAuthorized"),
        ("payment", "payment.PaymentCaptured"),
        ("payment", "payment.RefundSucceeded"),
        ("shipment", "shipment.ShipmentCreated"),
        ("shipment", "shipment.ShipmentTrackingUpdated"),
        ("shipment", "shipment.ShipmentDelivered"),
        ("return", "return.ReturnRequested"),
        ("return", "return.ReturnReceived"),
    }, kinds
    carrier = [e for e in entries if e["event_type"] == "shipment.ShipmentTrackingUpdated"]
    assert {e["data"]["code"] for e in carrier} >= {"picked_up", "in_transit"}
    captured = next(e for e in entries if e["event_type"] == "payment.PaymentCaptured")
    assert captured["type"] == "payment_captured" and "captured" in captured["description"]
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_the_timeline_is_exactly_the_events_of_the_orders_streams(tapi, lived):
    order_id = lived["order_id"]
    streams = [order_id, str(payment_stream(UUID(order_id))), lived["shipment_id"],
               lived["return_id"]]  # fmt: skip
    expected = sorted(
        (e["position"], e["stream_id"], e["version"], e["type"])
        for s in streams
        for e in tapi.get(f"/streams/{s}/events").json()["items"]
    )
    entries = timeline(tapi, order_id, min_position=lived["head"])
    got = [(e["position"], e["stream_id"], e["version"], e["event_type"]) for e in entries]
    assert got == expected


def test_the_timeline_reads_newest_first_and_pages(tapi, lived):
    order_id = lived["order_id"]
    ascending = timeline(tapi, order_id, min_position=lived["head"])
    assert timeline(tapi, order_id, order="desc") == ascending[::-1]
    for order, whole in (("asc", ascending), ("desc", ascending[::-1])):
        walked, cursor = [], None
        while True:
            params = {"order": order, "limit": 4, **({"cursor": cursor} if cursor else {})}
            body = tapi.get(f"/orders/{order_id}/timeline", params=params).json()
            walked += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert walked == whole


def test_a_rebuilt_timeline_equals_the_live_one(tapi, container, lived):
    """Live, a capture's order is looked up in the view's stream links (its authorization came
    in an earlier batch); rebuilt, both usually sit in one batch: the same entries either way."""
    order_id = lived["order_id"]
    live = timeline(tapi, order_id, min_position=lived["head"])
    container.runner.rebuild("order_timeline")
    assert timeline(tapi, order_id, min_position=lived["head"]) == live
