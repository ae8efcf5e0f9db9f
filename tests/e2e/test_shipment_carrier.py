"""Carrier choice over HTTP: a shipment opened without a carrier gets the best-scoring one of
the carrier table (on-time 70 %, cost 30 %); a named carrier is kept."""

from __future__ import annotations

import pytest

from domain.shipment.carriers import choose
from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_fulfillment_api import at, confirmed


@pytest.fixture(scope="module")
def capi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def test_a_shipment_without_a_carrier_gets_the_best_one_and_a_named_one_is_kept(capi, container):
    wh, _skus, order = confirmed(capi, container, 2)
    line = {"line_id": order["lines"][0]["line_id"], "quantity": 1}
    url = f"/orders/{order['id']}/shipments"
    r = capi.post(url, json={"location": wh, "lines": [line]})
    assert r.status_code == 201, r.text
    best = choose().name
    assert best == "USPS" and r.json()["carrier"] == best
    got = capi.get(f"/shipments/{r.json()['id']}", params=at(r))
    assert got.json()["carrier"] == best
    r = capi.post(url, json={"location": wh, "lines": [line], "carrier": "FedEx"})
    assert r.status_code == 201 and r.json()["carrier"] == "FedEx", r.text
    listed = capi.get(f"/orders/{order['id']}/shipments", params=at(r)).json()["items"]
    assert [(s["number"], s["carrier"]) for s in listed] == [(1, "USPS"), (2, "FedEx")]
