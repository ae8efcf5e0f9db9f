"""DOMAIN §3: a failing void or refund retries, then ``CancellationFailed`` and an alert.

Over HTTP against a server running its process managers, with the sandbox token
``tok_refund_fails`` (its authorization can never be voided or refunded): the approval answers
``failed`` (never a 500) within the bounded retries, the request is ``failed`` in the
cancellation-requests view, and the order is left as it was (still reserved, not cancelled)."""

from __future__ import annotations

import time
from uuid import UUID

import pytest

from domain.ids import payment_stream
from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_fulfillment_api import detail, dispatch, eventually, location, place_lines
from tests.e2e.test_order_saga import settled, stocked_sku


@pytest.fixture(scope="module")
def xapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def test_a_void_the_gateway_keeps_failing_ends_the_request_failed(xapi, container):
    wh = location(xapi, 1)
    sku = stocked_sku(container, xapi, (wh, 5))
    order = settled(xapi, place_lines(xapi, [(sku, 2)], token="tok_refund_fails"))
    assert order["status"] == "confirmed", order
    body = {"reason": "customer_request"}
    r = xapi.post(f"/orders/{order['id']}/cancellation-requests", json=body)
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    started = time.monotonic()
    r = xapi.post(f"/cancellation-requests/{request_id}/approve", json={"note": "ok"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed"
    assert time.monotonic() - started < 10  # retries are bounded
    at = {"min_position": r.json()["position"]}
    failed = eventually(
        lambda: xapi.get("/cancellation-requests", params={"status": "failed", **at}).json(),
        lambda page: any(x["id"] == request_id for x in page["items"]),
    )
    assert [x["order_id"] for x in failed["items"] if x["id"] == request_id] == [order["id"]]
    doc = detail(xapi, order["id"], r.json()["position"])
    assert doc["status"] == "confirmed"  # not cancelled: someone has to look at it
    inv = xapi.get(f"/inventory/{sku}", params=at).json()
    assert (inv["reserved"], inv["available"]) == (2, 3)  # nothing released
    ledger = xapi.get(f"/orders/{order['id']}/payments", params=at).json()
    assert ledger["voids"] == [] and ledger["voided"] in ("0", "0.00")
    events = xapi.get(f"/streams/{order['id']}/events").json()
    assert "CancellationCompleted" not in str(events)
    # a repeat answers the same and records the failure once
    again = xapi.post(f"/cancellation-requests/{request_id}/approve", json={"note": "ok"})
    assert again.status_code == 409  # already reviewed
    feed = xapi.get(f"/streams/{payment_stream(UUID(order['id']))}/events").json()
    items = feed["items"] if isinstance(feed, dict) else feed
    fails = [e for e in items if e["type"] == "payment.CancellationFailed"]
    assert [e["data"]["request_id"] for e in fails] == [request_id]
    assert fails[0]["data"]["operation"] == "void" and fails[0]["data"]["attempts"] == 4


def test_a_manual_refund_the_gateway_keeps_failing_answers_failed_not_500(xapi, container):
    wh = location(xapi, 1)
    sku = stocked_sku(container, xapi, (wh, 5))
    order = settled(xapi, place_lines(xapi, [(sku, 1)], token="tok_refund_fails"))
    assert order["status"] == "confirmed", order
    dispatch(xapi, order["id"], wh, order["lines"][0]["line_id"], 1)  # captures
    body = {"amount": {"amount": "5.00", "currency": "USD"}, "reason": "damaged"}
    r = xapi.post(f"/orders/{order['id']}/refunds", json=body)
    assert r.status_code == 201 and r.json()["status"] == "failed", r.text
    ledger = xapi.get(
        f"/orders/{order['id']}/payments", params={"min_position": r.json()["position"]}
    ).json()
    assert ledger["refunded"] in ("0", "0.00") and ledger["captured"] != "0"
