"""The data the browser tests look at: a product with stock and movements at a location of
its own, an order modified twice (its city: Springfield, then Shelbyville, then Capital
City), and orders placed on three days of March 2003 (no other test places orders then), so
the revenue chart of that period has exactly three points."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import httpx

from commands.context import CommandContext
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from tests.factories import active_product, send

CITIES = ("Springfield", "Shelbyville", "Capital City")
PAST_DAYS = (
    datetime(2003, 3, 1, 12, tzinfo=UTC),
    datetime(2003, 3, 2, 9, tzinfo=UTC),
    datetime(2003, 3, 4, 18, tzinfo=UTC),
)


@dataclass(frozen=True)
class Seeded:
    sku: str
    location: str
    order_id: str
    customer_id: str
    position: int


def _address(city: str) -> dict:
    return {
        "name": "N",
        "line1": "1 Main St",
        "city": city,
        "postal_code": "12345",
        "country": "US",
    }


def seed(container, api: httpx.Client) -> Seeded:  # noqa: ANN001
    _, sku = active_product(container, price="12.50")
    location = f"BR-{uuid4().hex[:8]}"
    r = api.post(
        "/locations", json={"code": location, "name": "Browser", "type": "warehouse", "priority": 5}
    )
    assert r.status_code == 201, r.text
    for body in (
        {"location": location, "quantity": 40, "reference": "first"},
        {"location": location, "quantity": 15, "reference": "second"},
    ):
        assert api.post(f"/inventory/{sku}/receipts", json=body).status_code == 200
    r = api.post(
        f"/inventory/{sku}/adjustments",
        json={"location": location, "delta": -7, "reason": "damaged"},
    )
    assert r.status_code == 200, r.text

    customer = str(uuid4())
    r = api.post(
        "/orders",
        json={
            "customer_id": customer,
            "currency": "USD",
            "lines": [{"sku": sku, "quantity": 2}],
            "shipping_address": _address(CITIES[0]),
            "payment": {"method": "card", "token": "tok"},
        },
    )
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    for city in CITIES[1:]:
        r = api.patch(
            f"/orders/{order_id}", json={"shipping_address": _address(city), "reason": "moved"}
        )
        assert r.status_code == 200, r.text
    position = r.json()["position"]

    for day in PAST_DAYS:
        placed = send(
            container,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=[RequestedLine(sku=sku, quantity=1)],
                shipping_address=Address(**_address("Past")),
                payment=PaymentRef(token="tok"),
            ),
            CommandContext.new("browser-seed", now=day),
        )
        position = max(position, placed.position)
    _caught_up(api, position)
    return Seeded(sku, location, order_id, customer, position)


def _caught_up(api: httpx.Client, position: int, timeout_s: float = 30) -> None:
    """Every read model the pages use has processed ``position``."""
    deadline = time.monotonic() + timeout_s
    for path in ("/analytics/sales", "/orders", "/inventory", "/projections"):
        while True:
            r = api.get(path, params={"min_position": position})
            if r.status_code == 200:
                break
            assert time.monotonic() < deadline, (path, r.status_code, r.text)
            time.sleep(0.2)
