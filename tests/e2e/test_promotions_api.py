"""Promotions over HTTP, on the real program with its process managers: the lifecycle, a code
unique whatever its case (also when claimed concurrently), bad input refused with its code and
nothing written, discounts on the order, codes that are not valid, and the limits: 200
concurrent orders with a code limited to 10 uses leave exactly 10 orders carrying it, the
per-customer limit likewise, and a cancelled order gives its use back."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error, client_for, running_server
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


@pytest.fixture(scope="module")
def papi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="2") as base:
        with client_for(base, timeout=60) as client:
            yield client


@pytest.fixture(scope="module")
def warehouse(papi) -> str:
    code = f"PR-{uuid4().hex[:8]}"
    r = papi.post("/locations", json={"code": code, "name": code, "type": "warehouse",
                                      "priority": 1})  # fmt: skip
    assert r.status_code == 201, r.text
    papi.get("/locations", params={"min_position": r.json()["position"], "limit": 1})
    return code


def stocked(container, api, warehouse: str, quantity: int = 1000, price: str = "10.00") -> str:
    sku = active_product(container, price=price)[1]
    r = api.post(f"/inventory/{sku}/receipts", json={"location": warehouse, "quantity": quantity})
    assert r.status_code in (200, 201), r.text
    return sku


def promotion(api, *, activate: bool = True, **fields) -> dict:
    body = {"name": "Test", "target": "order", "kind": "percentage", "value": "10",
            "stackable": False, **fields}  # fmt: skip
    r = api.post("/promotions", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    if activate:
        r = api.post(f"/promotions/{created['id']}/activate")
        assert r.status_code == 200, r.text
        created = r.json()
    return created


def order_body(sku: str, codes=None, customer=None, quantity: int = 1) -> dict:
    body = {
        "customer_id": str(customer or uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }
    if codes is not None:
        body["promotion_codes"] = codes
    return body


def settled(api, order_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        order = api.get(f"/orders/{order_id}").json()
        if order.get("status") in ("confirmed", "cancelled"):
            return order
        assert time.monotonic() < deadline, order
        time.sleep(0.05)


def until_cancelled(api, order_id: str, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while (order := api.get(f"/orders/{order_id}").json())["status"] != "cancelled":
        assert time.monotonic() < deadline, order
        time.sleep(0.05)
    return order


def head(api) -> int:
    return api.get("/events", params={"limit": 1}).json()["head"]


def code() -> str:
    return f"C-{uuid4().hex[:10]}"


# ---- the aggregate -----------------------------------------------------------------------


def test_a_promotion_goes_through_its_lifecycle_and_reads_back(papi):
    made = promotion(papi, activate=False, code=code(), usage_limit=10, valid_to=(
        datetime.now(UTC) + timedelta(days=1)).isoformat())  # fmt: skip
    assert made["status"] == "draft"
    pid = made["id"]
    doc = papi.get(f"/promotions/{pid}", params={"min_position": made["position"]}).json()
    assert (doc["status"], doc["redemptions"], doc["remaining"], doc["value"]) == (
        "draft", 0, 10, "10")  # fmt: skip
    for step, status in (("activate", "active"), ("pause", "paused"), ("activate", "active"),
                         ("end", "ended")):  # fmt: skip
        r = papi.post(f"/promotions/{pid}/{step}")
        assert r.status_code == 200 and r.json()["status"] == status, r.text
    assert_error(papi.post(f"/promotions/{pid}/activate"), 409, "illegal_transition")
    doc = papi.get(f"/promotions/{pid}", params={"min_position": head(papi)}).json()
    assert doc["status"] == "ended" and doc["version"] == 5
    listed = papi.get("/promotions", params={"status": "ended", "limit": 500}).json()
    assert pid in [p["id"] for p in listed["items"]]
    assert_error(papi.post(f"/promotions/{uuid4()}/activate"), 404, "promotion_not_found")
    assert_error(papi.get(f"/promotions/{uuid4()}"), 404, "promotion_not_found")


def test_a_code_is_taken_once_whatever_its_case_even_concurrently(papi):
    taken = code()
    promotion(papi, activate=False, code=taken)
    assert_error(papi.post("/promotions", json={"name": "x", "target": "order", "kind":
        "percentage", "value": "5", "code": taken.lower()}), 409, "code_taken")  # fmt: skip
    fresh = code()
    body = {"name": "race", "target": "order", "kind": "percentage", "value": "5"}

    def create(i: int) -> int:
        return papi.post("/promotions", json={**body, "code": fresh if i % 2 else fresh.lower()}
                         ).status_code  # fmt: skip

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(create, range(20)))
    assert sorted(statuses) == [201] + [409] * 19


@pytest.mark.parametrize(
    ("fields", "code_"),
    [
        ({"value": "150"}, "invalid_percentage"),
        ({"value": "-1"}, "invalid_percentage"),
        ({"kind": "fixed_amount", "value": {"amount": "-5.00", "currency": "USD"}},
         "negative_amount"),
        ({"kind": "fixed_amount", "value": {"amount": "5.001", "currency": "USD"}},
         "amount_too_precise"),
        ({"valid_from": "2026-06-01T00:00:00Z", "valid_to": "2026-05-01T00:00:00Z"},
         "invalid_window"),
        ({"code": "no spaces!"}, "invalid_code"),
        ({"conditions": {"segments": ["Not A Segment"]}}, "invalid_segment"),
    ],
)  # fmt: skip
def test_bad_input_is_422_with_its_code_and_writes_nothing(papi, fields, code_):
    before = head(papi)
    body = {"name": "bad", "target": "order", "kind": "percentage", "value": "10", **fields}
    assert_error(papi.post("/promotions", json=body), 422, code_)
    assert head(papi) == before


def test_only_admins_and_merchants_manage_promotions(papi):
    from tests.e2e.conftest import auth_headers

    # (with a code: a code-less one left behind would discount every later test's orders
    # once anything activated it)
    body = {"name": "x", "target": "order", "kind": "percentage", "value": "5", "code": code()}
    for role in ("customer", "analyst", "auditor"):
        r = papi.post("/promotions", json=body, headers=auth_headers(role, str(uuid4())))
        assert r.status_code == 403, (role, r.text)
    r = papi.post("/promotions", json=body, headers=auth_headers("merchant", "m-1"))
    assert r.status_code == 201, r.text
    assert papi.get("/promotions", headers=auth_headers("analyst", "a-1")).status_code == 200


# ---- discounts on orders -----------------------------------------------------------------


def test_an_order_with_a_code_shows_its_discounts(papi, container, warehouse):
    sku = stocked(container, papi, warehouse, price="10.00")
    taken = code()
    made = promotion(papi, code=taken, value="15")
    r = papi.post("/orders", json=order_body(sku, [taken.lower()], quantity=3))  # any case
    assert r.status_code == 201, r.text
    order = papi.get(f"/orders/{r.json()['id']}", params={"min_position": r.json()["position"]})
    doc = order.json()
    assert doc["discount"] == {"amount": "4.50", "currency": "USD"}
    assert doc["lines"][0]["discount"] == {"amount": "4.50", "currency": "USD"}
    assert doc["lines"][0]["total"] == {"amount": "30.00", "currency": "USD"}
    [applied] = doc["promotions"]
    assert applied["promotion_id"] == made["id"] and applied["amount"]["amount"] == "4.50"
    assert doc["total"]["amount"] == "25.50"
    assert settled(papi, doc["id"])["status"] == "confirmed"
    shown = papi.get(f"/promotions/{made['id']}", params={"min_position": head(papi)}).json()
    assert shown["redemptions"] == 1 and shown["remaining"] is None


def test_unknown_inactive_or_expired_codes_are_promotion_invalid(papi, container, warehouse):
    sku = stocked(container, papi, warehouse)
    draft = code()
    promotion(papi, activate=False, code=draft)
    paused = code()
    made = promotion(papi, code=paused)
    papi.post(f"/promotions/{made['id']}/pause")
    expired = code()
    promotion(papi, code=expired, valid_from="2025-01-01T00:00:00Z",
              valid_to="2025-02-01T00:00:00Z")  # fmt: skip
    before = head(papi)
    why = {"NO-SUCH-CODE": "unknown", draft: "draft", paused: "paused", expired: "outside_window"}
    for bad, reason in why.items():
        body = assert_error(papi.post("/orders", json=order_body(sku, [bad])), 422,
                            "promotion_invalid")  # fmt: skip
        assert body["details"] == {"code": bad.upper(), "reason": reason}
    assert head(papi) == before


def test_an_automatic_promotion_applies_by_itself_when_its_conditions_hold(
    papi, container, warehouse
):
    sku = stocked(container, papi, warehouse, price="20.00")
    auto = promotion(papi, target="products", kind="fixed_amount",
                     value={"amount": "2.50", "currency": "USD"},
                     conditions={"skus": [sku], "min_subtotal": {"amount": "40.00",
                                                                  "currency": "USD"}})  # fmt: skip
    try:
        small = papi.post("/orders", json=order_body(sku, quantity=1)).json()
        big = papi.post("/orders", json=order_body(sku, quantity=2)).json()
        at = {"min_position": head(papi)}
        assert papi.get(f"/orders/{small['id']}", params=at).json()["promotions"] == []
        doc = papi.get(f"/orders/{big['id']}", params=at).json()
        assert doc["discount"]["amount"] == "5.00"
        assert [p["promotion_id"] for p in doc["promotions"]] == [auto["id"]]
        assert doc["promotions"][0]["code"] is None
    finally:
        papi.post(f"/promotions/{auto['id']}/end")


# ---- limits ------------------------------------------------------------------------------


def carriers(api, order_ids, promotion_id: str) -> list[dict]:
    """The settled orders that got the promotion and are not cancelled."""
    orders = [settled(api, oid) for oid in order_ids]
    return [o for o in orders if o["status"] != "cancelled"
            and promotion_id in [p["promotion_id"] for p in o["promotions"]]]  # fmt: skip


def test_200_concurrent_orders_with_a_code_limited_to_10_leave_exactly_10_carrying_it(
    papi, container, warehouse
):
    sku = stocked(container, papi, warehouse, quantity=1000)
    limited = code()
    made = promotion(papi, code=limited, usage_limit=10)

    def place(_i: int):
        return papi.post("/orders", json=order_body(sku, [limited]))

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(place, range(200)))
    placed = [r.json()["id"] for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    assert all(r.status_code == 422 and r.json()["error"]["code"] == "promotion_exhausted"
               for r in refused), [r.text for r in refused[:3]]  # fmt: skip
    holding = carriers(papi, placed, made["id"])
    assert len(holding) == 10
    cancelled = [settled(papi, oid) for oid in placed]
    reasons = {o["cancellation_reason"] for o in cancelled if o["status"] == "cancelled"}
    assert reasons <= {"promotion_exhausted"}
    shown = papi.get(f"/promotions/{made['id']}", params={"min_position": head(papi)}).json()
    assert (shown["redemptions"], shown["remaining"]) == (10, 0)

    # Cancelling one frees one use: the next order gets it.
    assert_error(papi.post("/orders", json=order_body(sku, [limited])), 422, "promotion_exhausted")
    victim = holding[0]["id"]
    r = papi.post(f"/orders/{victim}/cancellation-requests", json={"reason": "customer_request"})
    assert r.status_code == 201, r.text
    r = papi.post(f"/cancellation-requests/{r.json()['id']}/approve", json={})
    assert r.status_code == 202, r.text
    assert until_cancelled(papi, victim)["cancellation_reason"] == "customer_request"
    deadline = time.monotonic() + 30
    while (r := papi.post("/orders", json=order_body(sku, [limited]))).status_code == 422:
        assert r.json()["error"]["code"] == "promotion_exhausted"
        assert time.monotonic() < deadline, "the cancelled order's use was never given back"
        time.sleep(0.1)
    assert r.status_code == 201, r.text
    eleventh = settled(papi, r.json()["id"])
    assert (
        eleventh["status"] == "confirmed"
        and eleventh["promotions"][0]["promotion_id"] == made["id"]
    )
    assert len(carriers(papi, [*placed, eleventh["id"]], made["id"])) == 10
    assert_error(papi.post("/orders", json=order_body(sku, [limited])), 422, "promotion_exhausted")


def test_a_per_customer_limit_holds_under_concurrency(papi, container, warehouse):
    sku = stocked(container, papi, warehouse, quantity=1000)
    limited = code()
    made = promotion(papi, code=limited, per_customer_limit=2)
    customer = uuid4()

    def place(_i: int):
        return papi.post("/orders", json=order_body(sku, [limited], customer=customer))

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(place, range(40)))
    placed = [r.json()["id"] for r in answers if r.status_code == 201]
    assert all(r.status_code in (201, 422) for r in answers)
    assert len(carriers(papi, placed, made["id"])) == 2
    other = papi.post("/orders", json=order_body(sku, [limited]))  # another customer: fine
    assert other.status_code == 201 and settled(papi, other.json()["id"])["status"] == "confirmed"


def test_a_first_order_promotion_goes_to_the_first_order_that_counts(papi, container, warehouse):
    sku = stocked(container, papi, warehouse)
    first = code()
    promotion(papi, code=first, conditions={"first_order_only": True})
    customer = uuid4()
    one = papi.post("/orders", json=order_body(sku, [first], customer=customer))
    assert one.status_code == 201, one.text
    assert settled(papi, one.json()["id"])["status"] == "confirmed"
    body = assert_error(papi.post("/orders", json=order_body(sku, [first], customer=customer)),
                        422, "promotion_not_applicable")  # fmt: skip
    assert body["details"]["reason"] == "first_order_only"
    # Once that order is cancelled it no longer counts: the next one is the first again.
    r = papi.post(f"/orders/{one.json()['id']}/cancellation-requests",
                  json={"reason": "customer_request"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert papi.post(f"/cancellation-requests/{r.json()['id']}/approve", json={}).status_code == 202
    until_cancelled(papi, one.json()["id"])
    deadline = time.monotonic() + 30
    while (
        r := papi.post("/orders", json=order_body(sku, [first], customer=customer))
    ).status_code != 201:
        assert r.json()["error"]["code"] == "promotion_not_applicable", r.text
        assert time.monotonic() < deadline, "the cancelled order still counts"
        time.sleep(0.1)
    assert [p["code"] for p in settled(papi, r.json()["id"])["promotions"]] == [first]
