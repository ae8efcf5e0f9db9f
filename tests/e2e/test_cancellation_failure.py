"""Cancelling: a failing void or refund retries, then ``CancellationFailed`` and an alert.

Over HTTP against a server running its process managers, with the sandbox token
``tok_refund_fails`` (its authorization can never be voided or refunded): the approval answers
``failed`` (never a 500) within the bounded retries, the request is ``failed`` in the
cancellation-requests view (``CancellationFailed`` on the order's stream and timeline), the
order is left as it was (still reserved, not cancelled), and approving it again retries it."""

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
    assert doc["cancellation_request"]["status"] == "failed"
    inv = xapi.get(f"/inventory/{sku}", params=at).json()
    assert (inv["reserved"], inv["available"]) == (2, 3)  # nothing released
    ledger = xapi.get(f"/orders/{order['id']}/payments", params=at).json()
    assert ledger["voids"] == [] and ledger["voided"] in ("0", "0.00")
    events = xapi.get(f"/streams/{order['id']}/events").json()
    items = events["items"] if isinstance(events, dict) else events
    assert "order.CancellationCompleted" not in [e["type"] for e in items]
    # the failure is the order's: on its stream and its timeline, not on the payment's
    fails = [e for e in items if e["type"] == "order.CancellationFailed"]
    assert [e["data"]["request_id"] for e in fails] == [request_id]
    assert fails[0]["data"]["operation"] == "void" and fails[0]["data"]["attempts"] == 4
    feed = xapi.get(f"/streams/{payment_stream(UUID(order['id']))}/events").json()
    pay_items = feed["items"] if isinstance(feed, dict) else feed
    assert not [e for e in pay_items if e["type"].endswith("CancellationFailed")]
    timeline = xapi.get(f"/orders/{order['id']}/timeline", params=at).json()
    entries = timeline["items"] if isinstance(timeline, dict) else timeline
    assert "cancellation_failed" in [x["type"] for x in entries]
    # approving it again retries it; the gateway still fails, so it is failed once more
    again = xapi.post(f"/cancellation-requests/{request_id}/approve", json={"note": "retry"})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "failed"
    events = xapi.get(f"/streams/{order['id']}/events").json()
    items = events["items"] if isinstance(events, dict) else events
    types = [e["type"] for e in items]
    assert types.count("order.CancellationFailed") == 2
    assert types.count("order.CancellationRetried") == 1
    inv = xapi.get(f"/inventory/{sku}", params={"min_position": again.json()["position"]}).json()
    assert (inv["reserved"], inv["available"]) == (2, 3)  # still nothing released


def test_a_manual_refund_the_gateway_keeps_failing_ends_failed_not_500(xapi, container):
    wh = location(xapi, 1)
    sku = stocked_sku(container, xapi, (wh, 5))
    order = settled(xapi, place_lines(xapi, [(sku, 1)], token="tok_refund_fails"))
    assert order["status"] == "confirmed", order
    dispatch(xapi, order["id"], wh, order["lines"][0]["line_id"], 1)  # captures
    body = {"amount": {"amount": "5.00", "currency": "USD"}, "reason": "damaged"}
    r = xapi.post(f"/orders/{order['id']}/refunds", json=body)
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    ledger = eventually(  # the returns manager asks the gateway, which keeps failing
        lambda: xapi.get(
            f"/orders/{order['id']}/payments", params={"min_position": r.json()["position"]}
        ).json(),
        lambda x: [f["status"] for f in x["refunds"]] == ["failed"],
    )
    assert ledger["refunded"] in ("0", "0.00") and ledger["captured"] != "0"
