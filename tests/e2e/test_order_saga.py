"""The order placement saga over HTTP, against a server that runs its process managers:
confirmation, each compensation, and no oversell under 200 concurrent orders."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from tests.e2e.conftest import client_for, running_server
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


@pytest.fixture(scope="module")
def saga_api(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def location(api, priority: int) -> str:
    code = f"SG-{uuid4().hex[:8]}"
    r = api.post(
        "/locations", json={"code": code, "name": code, "type": "warehouse", "priority": priority}
    )
    assert r.status_code == 201, r.text
    # the saga allocates from the locations view: wait until it shows the new one
    r = api.get("/locations", params={"min_position": r.json()["position"], "limit": 1})
    assert r.status_code == 200, r.text
    return code


def stocked_sku(container, api, *stock: tuple[str, int]) -> str:
    sku = active_product(container, price="10.00")[1]
    for code, quantity in stock:
        r = api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": quantity})
        assert r.status_code in (200, 201), r.text
    return sku


def order_body(sku: str, quantity: int = 1, token: str = "tok_visa") -> dict:
    """A ``POST /orders`` body: one line, a new customer, the sandbox card ``token``."""
    return {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": token},
    }


def place(api, sku: str, quantity: int = 1, token: str = "tok_visa") -> dict:
    r = api.post("/orders", json=order_body(sku, quantity, token))
    assert r.status_code == 201, r.text
    return r.json()


def settled(api, order_id: str, timeout_s: float = 30) -> dict:
    """The order once the saga has decided it (confirmed or cancelled)."""
    deadline = time.monotonic() + timeout_s
    while True:
        order = api.get(f"/orders/{order_id}").json()
        if order.get("status") in ("confirmed", "cancelled"):
            return order
        assert time.monotonic() < deadline, order
        time.sleep(0.05)


def available(api, sku: str) -> int:
    return api.get(f"/inventory/{sku}").json()["available"]


def wait_available(api, sku: str, expected: int, timeout_s: float = 10) -> int:
    deadline = time.monotonic() + timeout_s
    while (value := available(api, sku)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_s21_stock_and_an_approving_card_confirm_with_reservations(saga_api, container):
    wh = location(saga_api, 1)
    sku = stocked_sku(container, saga_api, (wh, 5))
    order = settled(saga_api, place(saga_api, sku, 2)["id"])
    assert order["status"] == "confirmed" and order["payment_status"] == "authorized"
    assert order["lines"][0]["reserved"] == 2
    assert order["allocations"][0]["location"] == wh
    assert wait_available(saga_api, sku, 3) == 3
    head = saga_api.get("/events", params={"limit": 1}).json()["head"]
    timeline = saga_api.get(
        f"/orders/{order['id']}/timeline", params={"min_position": head}
    ).json()["items"]
    timeline = [e for e in timeline if e["stream_type"] == "order"]  # not its payment's
    assert [e["type"] for e in timeline][-1] == "order_confirmed"
    placing = timeline[0]["correlation_id"]  # the saga's steps keep the placing request's
    assert {e["correlation_id"] for e in timeline[1:]} == {placing} != {order["id"]}


def test_s22_more_than_available_cancels_out_of_stock_and_holds_nothing(saga_api, container):
    wh = location(saga_api, 1)
    sku = stocked_sku(container, saga_api, (wh, 1))
    order = settled(saga_api, place(saga_api, sku, 2)["id"])
    assert (order["status"], order["cancellation_reason"]) == ("cancelled", "out_of_stock")
    inv = saga_api.get(f"/inventory/{sku}").json()
    assert (inv["on_hand"], inv["reserved"], inv["available"]) == (1, 0, 1)


def test_s23_a_declined_card_cancels_and_restores_availability_exactly(saga_api, container):
    wh = location(saga_api, 1)
    sku = stocked_sku(container, saga_api, (wh, 4))
    order = settled(saga_api, place(saga_api, sku, 3, token="tok_declined")["id"])
    assert (order["status"], order["cancellation_reason"]) == ("cancelled", "payment_declined")
    assert order["payment_status"] == "failed"
    assert wait_available(saga_api, sku, 4) == 4


def test_a_flaky_gateway_is_retried_and_approves(saga_api, container):
    wh = location(saga_api, 1)
    sku = stocked_sku(container, saga_api, (wh, 2))
    order = settled(saga_api, place(saga_api, sku, 1, token="tok_flaky")["id"])
    assert order["status"] == "confirmed"


def test_a_slow_gateway_times_out_and_cancels(saga_api, container):
    wh = location(saga_api, 1)
    sku = stocked_sku(container, saga_api, (wh, 2))
    order = settled(saga_api, place(saga_api, sku, 1, token="tok_slow")["id"])
    assert (order["status"], order["cancellation_reason"]) == ("cancelled", "payment_declined")
    assert wait_available(saga_api, sku, 2) == 2


def test_an_order_no_single_location_can_fill_is_split_across_locations(saga_api, container):
    wh1, wh2 = location(saga_api, 1), location(saga_api, 2)
    sku = stocked_sku(container, saga_api, (wh1, 2), (wh2, 2))
    order = settled(saga_api, place(saga_api, sku, 3)["id"])
    assert order["status"] == "confirmed"
    assert sorted((a["location"], a["quantity"]) for a in order["allocations"]) == sorted(
        [(wh1, 2), (wh2, 1)]
    )


def test_no_oversell_200_concurrent_orders_for_10_units(saga_api, container):
    wh1, wh2 = location(saga_api, 1), location(saga_api, 2)
    sku = stocked_sku(container, saga_api, (wh1, 6), (wh2, 4))
    seen: list[int] = []
    with ThreadPoolExecutor(16) as pool:
        placed = list(pool.map(lambda _: place(saga_api, sku)["id"], range(200)))
        orders = []
        for order_id in placed:
            orders.append(settled(saga_api, order_id, timeout_s=120))
            if len(orders) % 20 == 0:
                seen.append(available(saga_api, sku))
    statuses = [o["status"] for o in orders]
    assert statuses.count("confirmed") == 10
    assert {o["cancellation_reason"] for o in orders if o["status"] == "cancelled"} == {
        "out_of_stock"
    }
    assert min(seen) >= 0
    inv = saga_api.get(f"/inventory/{sku}").json()
    assert (inv["on_hand"], inv["reserved"], inv["available"]) == (10, 10, 0)
