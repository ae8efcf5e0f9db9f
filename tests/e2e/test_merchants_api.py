"""Merchants, their ledger, vendors and dropship over HTTP, against a server running its
process managers: the review table and its refusals, a suspended merchant's product refused at
placement while an order confirmed before goes on, the ledger after a refund, and a dropship
order from placement to delivery."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    at,
    deliver,
    detail,
    dispatch,
    eventually,
    location,
    place_lines,
    plans,
    receive,
    stream_events,
)
from tests.e2e.test_order_saga import settled


@pytest.fixture(scope="module")
def mapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def merchant(api, percent: str = "10", status: str = "approved") -> str:
    r = api.post(
        "/merchants",
        json={
            "name": "Acme Goods",
            "email": "sales@acme.example",
            "country": "DE",
            "commission_percent": percent,
        },  # fmt: skip
    )
    assert r.status_code == 201 and r.json()["status"] == "applied", r.text
    merchant_id = r.json()["id"]
    for step in {"applied": [], "approved": ["review", "approve"]}[status]:
        r = api.post(f"/merchants/{merchant_id}/{step}", json={})
        assert r.status_code == 200, r.text
    return merchant_id


def merchant_sku(api, merchant_id: str | None, *stock: tuple[str, int]) -> str:
    """An active product of the merchant at 10.00 USD, stocked as given."""
    sku = f"MP-{uuid4().hex[:10]}"
    body = {"sku": sku, "name": sku, "price": {"amount": "10.00", "currency": "USD"}}
    r = api.post("/products", json={**body, "merchant_id": merchant_id})
    assert r.status_code == 201, r.text
    for status in ("pending_approval", "active"):
        r = api.post(f"/products/{r.json()['id']}/lifecycle", json={"status": status})
        assert r.status_code == 200, r.text
    for code, quantity in stock:
        r = api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": quantity})
        assert r.status_code in (200, 201), r.text
    return sku


def version_of(api, merchant_id: str, after: int | None = None) -> int:
    r = api.get(f"/merchants/{merchant_id}", params=at(after) if after else None)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{r.json()["version"]}"'
    return r.json()["version"]


def test_the_review_table_over_http_and_its_refusals_write_nothing(mapi):
    merchant_id = merchant(mapi, "12.5", status="applied")
    assert_error(mapi.post(f"/merchants/{merchant_id}/approve", json={}), 409,
                 "merchant_not_under_review")  # fmt: skip
    r = mapi.post(f"/merchants/{merchant_id}/review", json={"reason": "documents in"})
    assert (r.status_code, r.json()["status"]) == (200, "under_review"), r.text
    r = mapi.post(f"/merchants/{merchant_id}/approve")  # no body: no reason
    assert r.json()["status"] == "approved", r.text
    version = version_of(mapi, merchant_id, r.json()["position"])
    assert_error(mapi.post(f"/merchants/{merchant_id}/reject", json={}), 409,
                 "merchant_not_under_review")  # fmt: skip
    assert_error(mapi.post(f"/merchants/{merchant_id}/review", json={}), 409,
                 "merchant_not_applied")  # fmt: skip
    r = mapi.post(f"/merchants/{merchant_id}/commission",
                  json={"commission_percent": "150", "reason": "typo"})  # fmt: skip
    assert_error(r, 422, "commission_out_of_range")
    assert version_of(mapi, merchant_id) == version  # nothing written
    r = mapi.post(f"/merchants/{merchant_id}/suspend", json={"reason": "chargebacks"})
    assert r.json()["status"] == "suspended"
    r = mapi.post(f"/merchants/{merchant_id}/reinstate", json={})
    r = mapi.post(f"/merchants/{merchant_id}/commission",
                  json={"commission_percent": "8", "reason": "volume deal"})  # fmt: skip
    assert r.status_code == 200, r.text
    got = mapi.get(f"/merchants/{merchant_id}", params=at(r)).json()
    assert (got["status"], got["commission_percent"]) == ("approved", "8")
    assert [h["percent"] for h in got["commission_history"]] == ["12.5", "8"]
    assert [h["status"] for h in got["status_history"]] == [
        "applied", "under_review", "approved", "suspended", "approved",
    ]  # fmt: skip
    listed = mapi.get("/merchants", params={"status": "approved", "limit": 500, **at(r)}).json()
    assert merchant_id in {m["id"] for m in listed["items"]} or listed["next_cursor"]


def test_bad_input_is_refused_with_its_code_and_writes_nothing(mapi):
    head = mapi.post("/vendors", json={"name": "V", "email": "v@x.example", "lead_time_days": 1})
    unknown = str(uuid4())
    body = {"name": "X", "email": "x@x.example", "country": "DE"}
    assert_error(mapi.post("/merchants", json={**body, "commission_percent": "-1"}), 422,
                 "commission_out_of_range")  # fmt: skip
    bad_email = {**body, "commission_percent": "5", "email": "nope"}
    assert_error(mapi.post("/merchants", json=bad_email), 422, "invalid_email")
    assert_error(mapi.post(f"/merchants/{unknown}/approve", json={}), 404, "merchant_not_found")
    assert_error(mapi.get(f"/merchants/{unknown}"), 404, "merchant_not_found")
    assert_error(mapi.get(f"/merchants/{unknown}/ledger"), 404, "merchant_not_found")
    assert_error(mapi.get(f"/vendors/{unknown}"), 404, "vendor_not_found")
    r = mapi.post("/products", json={"sku": f"MX-{uuid4().hex[:8]}", "name": "x",
                                     "price": {"amount": "1.00", "currency": "USD"},
                                     "merchant_id": unknown})  # fmt: skip
    assert_error(r, 422, "unknown_merchant")
    code = f"DS-{uuid4().hex[:8]}"
    loc = {"code": code, "name": code, "priority": 1}
    assert_error(mapi.post("/locations", json={**loc, "type": "dropship"}), 422, "vendor_required")
    assert_error(mapi.post("/locations", json={**loc, "type": "dropship", "vendor_id": unknown}),
                 422, "unknown_vendor")  # fmt: skip
    assert_error(mapi.post("/locations", json={**loc, "type": "warehouse", "vendor_id": unknown}),
                 422, "vendor_not_allowed")  # fmt: skip
    assert_error(mapi.post("/vendors", json={"name": "V", "email": "v@x.example",
                                             "lead_time_days": -1}), 422)  # fmt: skip
    written = mapi.get("/events", params={
        "after": head.json()["position"], "stream_type": "merchant,vendor,location,product",
    }).json()["items"]  # fmt: skip
    assert written == []


def test_a_suspended_merchants_product_is_refused_while_a_confirmed_order_goes_on(mapi):
    merchant_id = merchant(mapi)
    wh = location(mapi, 1)
    sku = merchant_sku(mapi, merchant_id, (wh, 10))
    before = settled(mapi, place_lines(mapi, [(sku, 2)]))
    assert before["status"] == "confirmed", before
    r = mapi.post(f"/merchants/{merchant_id}/suspend", json={"reason": "audit"})
    assert r.json()["status"] == "suspended", r.text
    refused = mapi.post("/orders", json={
        "customer_id": str(uuid4()), "currency": "USD", "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": {"name": "Ann", "line1": "1 Main St", "city": "Springfield",
                             "postal_code": "12345", "country": "US"},
        "payment": {"method": "card", "token": "tok_visa"},
    })  # fmt: skip
    body = assert_error(refused, 422, "merchant_suspended")
    assert body["details"]["sku"] == sku
    shipment = dispatch(mapi, before["id"], wh, before["lines"][0]["line_id"], 2)
    deliver(mapi, shipment["id"])
    assert eventually(lambda: detail(mapi, before["id"]), lambda d: d["status"] == "delivered")
    mapi.post(f"/merchants/{merchant_id}/reinstate", json={})
    assert settled(mapi, place_lines(mapi, [(sku, 1)]))["status"] == "confirmed"


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def test_the_ledger_after_a_delivery_and_a_refund(mapi):
    merchant_id = merchant(mapi, "10")
    wh = location(mapi, 1)
    sku = merchant_sku(mapi, merchant_id, (wh, 10))
    order = settled(mapi, place_lines(mapi, [(sku, 2)]))
    line_id = order["lines"][0]["line_id"]
    shipment = dispatch(mapi, order["id"], wh, line_id, 2)
    deliver(mapi, shipment["id"])
    r = mapi.post(f"/merchants/{merchant_id}/commission",
                  json={"commission_percent": "20", "reason": "new terms"})  # fmt: skip
    ledger = eventually(
        lambda: mapi.get(f"/merchants/{merchant_id}/ledger", params=at(r)).json(),
        lambda d: d["entries"],
    )
    [delivered] = ledger["entries"]
    assert (delivered["kind"], delivered["quantity"], delivered["rate_percent"]) == (
        "delivery", 2, "10")  # fmt: skip
    assert (delivered["gross"], delivered["commission"], delivered["net"]) == (
        money("20.00"), money("2.00"), money("18.00"))  # fmt: skip
    one = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "broken"}
    r = mapi.post(f"/orders/{order['id']}/returns", json=one)
    assert r.status_code == 201, r.text
    done = receive(mapi, r.json()["id"], restock=True, location=wh)
    assert done["refund"] == "succeeded", done
    ledger = eventually(
        lambda: mapi.get(f"/merchants/{merchant_id}/ledger", params=at(done["position"])).json(),
        lambda d: len(d["entries"]) == 2,
    )
    refund = ledger["entries"][1]
    assert (refund["kind"], refund["quantity"], refund["rate_percent"]) == ("refund", 1, "10")
    assert (refund["gross"], refund["commission"], refund["net"]) == (
        money("-10.00"), money("-1.00"), money("-9.00"))  # fmt: skip
    [total] = ledger["totals"]
    assert (total["gross"], total["commission"], total["net"], total["entries"]) == (
        money("10.00"), money("1.00"), money("9.00"), 2)  # fmt: skip
    period = {"from": refund["at"], "to": "2999-01-01T00:00:00Z"}
    only_refund = mapi.get(f"/merchants/{merchant_id}/ledger", params=period).json()
    assert [e["kind"] for e in only_refund["entries"]] == ["refund"]
    assert Decimal(only_refund["totals"][0]["net"]["amount"]) == Decimal("-9.00")
    assert_error(mapi.get(f"/merchants/{merchant_id}/ledger", params={"from": "2026-01-01"}), 422)


def test_a_dropship_order_from_placement_to_delivery(mapi):
    r = mapi.post("/vendors", json={"name": "Drop Co", "email": "ops@drop.example",
                                    "lead_time_days": 3})  # fmt: skip
    assert r.status_code == 201, r.text
    vendor_id = r.json()["id"]
    code = f"DS-{uuid4().hex[:8]}"
    r = mapi.post("/locations", json={"code": code, "name": "Drop Co stock", "type": "dropship",
                                      "priority": 1, "vendor_id": vendor_id})  # fmt: skip
    assert r.status_code == 201, r.text
    mapi.get("/locations", params={"min_position": r.json()["position"], "limit": 1})
    sku = merchant_sku(mapi, None, (code, 5))
    order = settled(mapi, place_lines(mapi, [(sku, 2)]))
    assert order["status"] == "confirmed", order
    [plan] = plans(mapi, order["id"])
    created = stream_events(mapi, plan["id"])[0]
    assert (created["type"], created["data"]["strategy"]) == (
        "fulfillment_plan.PlanCreated",
        "dropship",
    )
    assert plan["location"] == code
    requests = eventually(
        lambda: mapi.get(f"/vendors/{vendor_id}/dropship-requests").json()["items"], bool
    )
    assert [(q["order_id"], q["status"], q["requested"]) for q in requests] == [
        (order["id"], "requested", 2)
    ]
    assert mapi.get(f"/vendors/{vendor_id}").json()["locations"] == [code]
    shipment = dispatch(mapi, order["id"], code, order["lines"][0]["line_id"], 2)
    deliver(mapi, shipment["id"])
    assert eventually(lambda: detail(mapi, order["id"]), lambda d: d["status"] == "delivered")
    closed = eventually(
        lambda: mapi.get(f"/vendors/{vendor_id}/dropship-requests").json()["items"],
        lambda items: items[0]["status"] == "delivered",
    )
    assert (closed[0]["shipped"], closed[0]["delivered"]) == (2, 2)
    assert mapi.get(f"/inventory/{sku}").json()["on_hand"] == 3
