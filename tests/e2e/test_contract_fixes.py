"""Three promises of the HTTP API, over HTTP against a server running its process managers:
a split parent is frozen (``PATCH`` answers 409), a restock without a location puts each unit
back where it shipped from, and a repeated ``POST`` under the same ``Idempotency-Key``
answers the first response byte for byte, even after the saga has moved the order on."""

from __future__ import annotations

from uuid import uuid4

import orjson
import pytest

from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    confirmed,
    deliver,
    detail,
    dispatch,
    location,
    place_lines,
    receive,
    settled_return,
)
from tests.e2e.test_order_saga import order_body, settled, stocked_sku


@pytest.fixture(scope="module")
def api(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


# ---- a split parent is frozen ------------------------------------------------------------


def test_a_split_parent_refuses_a_modification_and_its_children_accept_one(api, container):
    # Given a confirmed order split into two children
    wh1, wh2 = location(api, 1), location(api, 2)
    a = stocked_sku(container, api, (wh1, 5), (wh2, 5))
    b = stocked_sku(container, api, (wh1, 5), (wh2, 5))
    order = settled(api, place_lines(api, [(a, 1), (b, 1)]))
    l1, l2 = (x["line_id"] for x in order["lines"])
    r = api.post(
        f"/orders/{order['id']}/splits",
        json={
            "reason": "multi_warehouse",
            "parts": [
                {"location": wh1, "lines": [{"line_id": l1, "quantity": 1}]},
                {"location": wh2, "lines": [{"line_id": l2, "quantity": 1}]},
            ],
        },
    )
    assert r.status_code == 201, r.text
    child = r.json()["children"][0]["id"]
    version = detail(api, order["id"], r.json()["position"])["version"]
    # When the parent is modified, Then it answers 409 order_frozen and writes nothing
    for change in ({"priority": "urgent"}, {"gift": {"wrap": True}}):
        r = api.patch(f"/orders/{order['id']}", json={**change, "reason": "customer asked"})
        assert_error(r, 409, "order_frozen")
    assert api.get(f"/streams/{order['id']}/events").json()["items"][-1]["version"] == version
    # while a child, which carries the order on, may still change
    r = api.patch(f"/orders/{child}", json={"priority": "urgent", "reason": "customer asked"})
    assert r.status_code == 200, r.text


# ---- a restock without a location goes back where the units shipped from -----------------


def _on_hand(api, sku: str, position: int) -> dict[str, int]:
    inv = api.get(f"/inventory/{sku}", params={"min_position": position}).json()
    return {x["location"]: x["on_hand"] for x in inv["locations"]}


def _return(api, order_id: str, line_id: str, quantity: int) -> str:
    r = api.post(
        f"/orders/{order_id}/returns",
        json={"lines": [{"line_id": line_id, "quantity": quantity}], "reason": "too big"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_restock_without_location_goes_back_to_the_shipping_location(api, container):
    # Given two delivered units shipped from one location (another location also stocks it)
    other = location(api, 0)
    wh, skus, order = confirmed(api, container, 2, stock=4)
    r = api.post(f"/inventory/{skus[0]}/receipts", json={"location": other, "quantity": 7})
    assert r.status_code in (200, 201), r.text
    line_id = order["lines"][0]["line_id"]
    deliver(api, dispatch(api, order["id"], wh, line_id, 2)["id"])
    # When one unit is received back with restock and no location
    return_id = _return(api, order["id"], line_id, 1)
    got = receive(api, return_id, restock=True)
    # Then it is accepted and the unit is back in stock where it shipped from
    assert got["status"] == "refunded", got
    assert _on_hand(api, skus[0], got["position"]) == {wh: 3, other: 7}
    assert got["location"] is None
    assert got["restock_to"] == [{"line_id": line_id, "location": wh, "quantity": 1}]
    # and receiving it again restocks nothing more
    r = api.post(f"/returns/{return_id}/receive", json={"restock": True})
    assert r.status_code == 200, r.text
    assert _on_hand(api, skus[0], r.json()["position"]) == {wh: 3, other: 7}


def test_units_shipped_from_two_locations_each_go_back_to_their_own(api, container):
    # Given a line of 3 served 2 from WH1 and 1 from WH2, shipped and delivered from each
    wh1, wh2 = location(api, 1), location(api, 2)
    sku = stocked_sku(container, api, (wh1, 2), (wh2, 2))
    order = settled(api, place_lines(api, [(sku, 3)]))
    assert order["status"] == "confirmed", order
    line_id = order["lines"][0]["line_id"]
    deliver(api, dispatch(api, order["id"], wh1, line_id, 2)["id"])
    deliver(api, dispatch(api, order["id"], wh2, line_id, 1)["id"])
    first = _return(api, order["id"], line_id, 1)
    got = receive(api, first, restock=True)
    assert _on_hand(api, sku, got["position"]) == {wh1: 1, wh2: 1}
    # When the other two come back in one return
    second = _return(api, order["id"], line_id, 2)
    got = receive(api, second, restock=True)
    # Then one goes to WH1 (the first shipment's last unit) and one to WH2
    assert _on_hand(api, sku, got["position"]) == {wh1: 2, wh2: 2}
    assert sorted((p["location"], p["quantity"]) for p in got["restock_to"]) == sorted(
        [(wh1, 1), (wh2, 1)]
    )


def test_a_named_location_still_wins_and_no_restock_needs_none(api, container):
    other = location(api, 5)
    wh, skus, order = confirmed(api, container, 2, stock=4)
    line_id = order["lines"][0]["line_id"]
    deliver(api, dispatch(api, order["id"], wh, line_id, 2)["id"])
    got = receive(api, _return(api, order["id"], line_id, 1), restock=True, location=other)
    assert _on_hand(api, skus[0], got["position"]) == {wh: 2, other: 1}
    got = receive(api, _return(api, order["id"], line_id, 1))
    assert _on_hand(api, skus[0], got["position"]) == {wh: 2, other: 1}


# ---- an idempotent replay is the first response, byte for byte ---------------------------


def test_a_replayed_order_placement_is_the_first_response_after_confirmation(api, container):
    # Given an order placed under a key, answered pending, then confirmed by the saga
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 5))
    body, key = order_body(sku), {"Idempotency-Key": f"k-{uuid4()}"}
    first = api.post("/orders", json=body, headers=key)
    assert first.status_code == 201 and first.json()["status"] == "pending", first.text
    assert settled(api, first.json()["id"])["status"] == "confirmed"
    # When the same request is sent again under the same key (also through the route)
    again = api.post("/orders", json=body, headers=key)
    chunked = api.post(
        "/orders",
        content=iter([orjson.dumps(body)]),  # no Content-Length: not the lane
        headers={**key, "Content-Type": "application/json"},
    )
    # Then both answers are the first one, byte for byte
    for replay in (again, chunked):
        assert (replay.status_code, replay.content) == (first.status_code, first.content)


def test_a_replayed_multi_step_command_repeats_its_first_answer_after_the_state_moved(
    api, container
):
    # Given a return received under a key whose refund failed (the return stays received)
    wh, _skus, order = confirmed(api, container, 1, stock=3, token="tok_refund_fails")
    line_id = order["lines"][0]["line_id"]
    deliver(api, dispatch(api, order["id"], wh, line_id, 1)["id"])
    return_id = _return(api, order["id"], line_id, 1)
    key = {"Idempotency-Key": f"k-{uuid4()}"}
    first = api.post(f"/returns/{return_id}/receive", json={"restock": False}, headers=key)
    assert first.status_code == 202 and first.json()["refund"] == "pending", first.text
    assert settled_return(api, return_id, first.json()["position"])["refund"] == "failed"
    # and received again without the key since (another failed attempt moved its version)
    later = api.post(f"/returns/{return_id}/receive", json={"restock": False})
    assert later.status_code == 202 and later.json()["version"] > first.json()["version"]
    assert settled_return(api, return_id, later.json()["position"])["refund"] == "failed"
    # When the first request is repeated under its key
    again = api.post(f"/returns/{return_id}/receive", json={"restock": False}, headers=key)
    # Then it answers what the first answered, byte for byte, and asks for no new refund
    assert (again.status_code, again.content) == (first.status_code, first.content)
    events = api.get(f"/streams/{return_id}/events").json()["items"]
    assert [e["type"] for e in events].count("return.ReturnRefundFailed") == 2
    # and a different request under the same key is still refused
    other = api.post(f"/returns/{return_id}/receive", json={"restock": True}, headers=key)
    assert_error(other, 422)
