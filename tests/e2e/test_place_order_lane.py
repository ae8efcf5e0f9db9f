"""``POST /orders`` through its fast path (``api.fast_path``: the route's own handler answers the
common shape first) and through the route's FastAPI handler: a request with a query string is
left to the latter, so the same request can be sent both ways. Given / when / then: the answers
agree, idempotency keys are shared by both, and what the fast path declines the route refuses
as before, writing nothing."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error
from tests.e2e.test_orders_api import _bad_placements, head, order_body
from tests.factories import active_product

ROUTE = {"via": "route"}  # a query parameter the fast path does not take: FastAPI answers


@pytest.fixture(scope="module")
def sku(container):
    return active_product(container, price="7.50")[1]


def test_the_lane_and_the_route_acknowledge_alike(api, sku):
    # Given one body; when it is placed through the lane and through the route
    lane = api.post("/orders", json=order_body(sku))
    route = api.post("/orders", json=order_body(sku), params=ROUTE)
    # then both are 201 with the same fields, a new order each, numbered in order
    assert lane.status_code == route.status_code == 201
    a, b = lane.json(), route.json()
    assert a.keys() == b.keys() == {"id", "number", "status", "version", "position"}
    assert a["id"] != b["id"] and b["number"] > a["number"] and b["position"] > a["position"]
    assert (a["status"], a["version"]) == (b["status"], b["version"]) == ("pending", 1)
    assert lane.headers["content-type"] == route.headers["content-type"] == "application/json"
    # and both orders are stored and read back the same way
    for ack in (a, b):
        r = api.get(f"/orders/{ack['id']}", params={"min_position": ack["position"]})
        assert r.status_code == 200 and r.json()["lines"][0]["sku"] == sku


def test_an_idempotency_key_is_one_key_whichever_way_the_request_comes(api, sku):
    body = order_body(sku)
    key = {"Idempotency-Key": f"lane-{uuid4().hex}"}
    # Given an order placed through the lane with a key
    first = api.post("/orders", json=body, headers=key)
    assert first.status_code == 201, first.text
    before = head(api)
    # when the same request comes again, through the lane and through the route
    again = api.post("/orders", json=body, headers=key)
    via_route = api.post("/orders", json=body, headers=key, params=ROUTE)
    # then both replay the first answer and nothing is written
    assert again.json()["id"] == via_route.json()["id"] == first.json()["id"]
    assert head(api) == before
    # and the key with another body is refused both ways
    other = order_body(sku)
    assert_error(api.post("/orders", json=other, headers=key), 422, "idempotency_key_reused")
    r = api.post("/orders", json=other, headers=key, params=ROUTE)
    assert_error(r, 422, "idempotency_key_reused")
    assert_error(api.post("/orders", json=body, headers={"Idempotency-Key": "a b"}), 400,
                 "malformed_idempotency_key")  # fmt: skip
    assert head(api) == before


def test_refusals_are_the_same_through_the_lane_and_the_route(api, sku):
    before = head(api)
    for body, status, code in _bad_placements(sku):
        assert_error(api.post("/orders", json=body), status, code)
        assert_error(api.post("/orders", json=body, params=ROUTE), status, code)
    for params in ({}, ROUTE):
        r = api.post("/orders", content=b"{oops", params=params,
                     headers={"content-type": "application/json"})  # fmt: skip
        assert_error(r, 400, "malformed_request")
        r = api.post("/orders", content=b"x" * 1_000_001, params=params,
                     headers={"content-type": "application/json"})  # fmt: skip
        assert_error(r, 413, "payload_too_large")
    assert head(api) == before


def test_a_body_sent_in_chunks_or_as_another_type_is_the_routes_to_answer(api, sku):
    import orjson

    body = orjson.dumps(order_body(sku))

    def chunks():
        yield body[:10]
        yield body[10:]

    r = api.post("/orders", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    r = api.post("/orders", content=body, headers={"content-type": "text/plain"})
    assert_error(r, 400, "malformed_request")  # FastAPI reads a JSON body only as JSON
