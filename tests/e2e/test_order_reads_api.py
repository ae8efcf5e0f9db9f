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
