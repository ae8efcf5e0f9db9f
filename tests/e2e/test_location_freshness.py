"""Allocation reads the Location streams, not the locations view: an order placed right after
its location was registered and stocked is confirmed, never cancelled ``out_of_stock`` because
a view had not caught up. Twenty times in a row, a new location each time, without waiting
for any view between the steps."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest

from tests.e2e.conftest import client_for, running_server
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip
ROUNDS = 20


@pytest.fixture(scope="module")
def saga_api(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def _settled(api, order_id: str, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        order = api.get(f"/orders/{order_id}").json()
        if order.get("status") in ("confirmed", "cancelled"):
            return order
        assert time.monotonic() < deadline, order
        time.sleep(0.05)


def test_an_order_placed_right_after_its_location_was_created_is_confirmed(saga_api, container):
    # Given one product per round, stocked nowhere yet
    skus = [active_product(container, price="10.00")[1] for _ in range(ROUNDS)]
    placed: list[tuple[str, str]] = []
    for sku in skus:
        # When a new location is registered, stocked and ordered from at once
        code = f"FR-{uuid4().hex[:8]}"
        r = saga_api.post(
            "/locations", json={"code": code, "name": code, "type": "warehouse", "priority": 5}
        )
        assert r.status_code == 201, r.text
        r = saga_api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": 3})
        assert r.status_code in (200, 201), r.text
        r = saga_api.post(
            "/orders",
            json={
                "customer_id": str(uuid4()),
                "currency": "USD",
                "lines": [{"sku": sku, "quantity": 2}],
                "shipping_address": ADDRESS,
                "payment": {"method": "card", "token": "tok_visa"},
            },
        )
        assert r.status_code == 201, r.text
        placed.append((r.json()["id"], code))
    # Then every order is confirmed from its own new location
    outcomes = {oid: _settled(saga_api, oid) for oid, _code in placed}
    out_of_stock = [o for o in outcomes.values() if o.get("cancellation_reason") == "out_of_stock"]
    assert out_of_stock == []
    for oid, code in placed:
        order = outcomes[oid]
        assert order["status"] == "confirmed", order
        assert {a["location"] for a in order["allocations"]} == {code}
