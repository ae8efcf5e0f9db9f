"""GET /orders/{id} and read-your-writes: ``?min_position=`` waits for the order detail view;
a position never written is 422 ``position_beyond_head``, a negative one 422, and neither
reads anything."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


@pytest.fixture
def placed(api, container):
    sku = active_product(container, price="5.00")[1]
    body = {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_read_at_the_placing_position_sees_the_order(api, placed):
    r = api.get(f"/orders/{placed['id']}", params={"min_position": placed["position"]})
    assert r.status_code == 200 and r.json()["id"] == placed["id"]
    assert r.headers["ETag"] == '"1"' and "payment" not in r.json()


def test_a_position_beyond_the_head_is_refused(api, placed):
    r = api.get(f"/orders/{placed['id']}", params={"min_position": 10**12})
    assert_error(r, 422, "position_beyond_head")


def test_a_negative_position_is_refused(api, placed):
    r = api.get(f"/orders/{placed['id']}", params={"min_position": -1})
    assert r.status_code == 422


def test_an_unknown_order_is_not_found(api):
    assert_error(api.get(f"/orders/{uuid4()}"), 404, "order_not_found")


def test_the_fast_lane_and_the_route_answer_alike(api, placed):
    # Given an order; when it is read as usual (the route's fast path answers) and with a
    # query parameter the fast path does not know (it declines, FastAPI's handler answers)
    for view in ("full", "customer"):
        params = {"view": view, "min_position": placed["position"]}
        lane = api.get(f"/orders/{placed['id']}", params=params)
        route = api.get(f"/orders/{placed['id']}", params={**params, "ignored": "1"})
        # then both answers are the same, byte for byte, headers included
        assert lane.status_code == route.status_code == 200
        assert lane.content == route.content
        for header in ("content-type", "content-length", "etag"):
            assert lane.headers[header] == route.headers[header]


def test_what_the_lane_declines_the_route_refuses(api, placed):
    order = f"/orders/{placed['id']}"
    assert_error(api.get(order, params={"view": "everything"}), 422, "validation_error")
    assert_error(api.get(order, params={"min_position": "soon"}), 422, "validation_error")
    assert_error(api.get("/orders/not-a-uuid"), 422, "validation_error")
    assert_error(api.get(f"/orders/{uuid4()}", params={"ignored": "1"}), 404, "order_not_found")
