"""Over HTTP: the payment gateway does not answer before the reservations' time
limit, so the saga lets the holds expire and cancels ``reservation_expired``; the units are
available again."""

from __future__ import annotations

import pytest

from domain.ids import inventory_stream
from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_order_saga import location, place, settled, stocked_sku, wait_available


@pytest.fixture(scope="module")
def short_ttl_api(database_url, container):
    # Holds last 1 s; the sandbox answers tok_slow only after the 1.5 s payment timeout.
    with running_server(
        database_url, ECOM_RESERVATION_TTL_S="1", ECOM_PAYMENT_TIMEOUT_S="1.5"
    ) as base:
        with client_for(base, timeout=60) as client:
            yield client


def test_s24_no_payment_answer_before_the_time_limit_cancels_reservation_expired(
    short_ttl_api, container
):
    api = short_ttl_api
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 3))
    order = settled(api, place(api, sku, 2, token="tok_slow")["id"])
    assert (order["status"], order["cancellation_reason"]) == ("cancelled", "reservation_expired")
    assert wait_available(api, sku, 3) == 3
    events = api.get(f"/streams/{inventory_stream(sku)}/events").json()["items"]
    types = [e["type"] for e in events]
    assert types.count("inventory.ReservationExpired") == 1, types
    assert "inventory.ReservationConfirmed" not in types


def test_an_answer_within_the_time_limit_still_confirms(short_ttl_api, container):
    api = short_ttl_api
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 3))
    order = settled(api, place(api, sku, 2)["id"])
    assert order["status"] == "confirmed"
