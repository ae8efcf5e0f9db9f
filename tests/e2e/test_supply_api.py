"""Suppliers, purchase orders and replenishment over HTTP, against the real program with its
process managers: who may do what (merchants and admins manage; analysts and auditors read;
customers nothing), every refusal with its code and nothing written, receipts on the shelf,
a suggestion drafted when stock falls to the reorder point, and the lead-time figure."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import eventually, location
from tests.factories import active_product


@pytest.fixture(scope="module")
def server(database_url, container):  # noqa: ANN001, ANN201
    with running_server(database_url) as base:
        yield base


@pytest.fixture(scope="module")
def merchant(server):  # noqa: ANN001, ANN201
    with client_for(server, role="merchant", sub="e2e-merchant") as client:
        yield client


@pytest.fixture(scope="module")
def world(merchant, container):  # noqa: ANN001, ANN201
    """A location, two SKUs and a supplier of both (packs of 6, at least 12, of the first)."""
    code = location(merchant, 1)
    a, b = active_product(container)[1], active_product(container)[1]
    made = new_supplier(merchant, [item(a, pack=6, minimum=12), item(b)])
    # the suppliers view has it before any test reads it
    eventually(
        lambda: merchant.get(f"/suppliers/{made['id']}", params={"min_position": made["position"]}),
        lambda r: r.status_code == 200,
        timeout_s=90,  # a fresh server's views start from the first event of the session
    )
    return code, a, b, made["id"]


def item(sku: str, cost: str = "2.50", pack: int = 1, minimum: int = 1) -> dict:
    return {
        "sku": sku,
        "cost": {"amount": cost, "currency": "USD"},
        "pack_size": pack,
        "min_order_quantity": minimum,
    }


def new_supplier(api, items: list[dict], lead_time_days: int = 5) -> dict:  # noqa: ANN001
    body = {"name": "Acme", "email": "orders@acme.example", "lead_time_days": lead_time_days}
    r = api.post("/suppliers", json={**body, "items": items})
    assert r.status_code == 201, r.text
    return r.json()


def new_order(api, supplier_id: str, code: str, lines: dict[str, int]) -> dict:  # noqa: ANN001
    body = {
        "supplier_id": supplier_id,
        "location": code,
        "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
    }
    r = api.post("/purchase-orders", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    return r.json()


def step(api, order_id: str, action: str, status: str) -> dict:  # noqa: ANN001
    r = api.post(f"/purchase-orders/{order_id}/{action}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == status
    return r.json()


def receipt(api, order_id: str, lines: dict[str, int]):  # noqa: ANN001, ANN201
    body = {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    return api.post(f"/purchase-orders/{order_id}/receipts", json=body)


def test_a_supplier_reads_back_for_staff_and_unknown_skus_are_refused(server, merchant, world):
    code, a, b, supplier_id = world
    assert_error(
        merchant.post(
            "/suppliers",
            json={
                "name": "X",
                "email": "x@x.example",
                "lead_time_days": 1,
                "items": [item("NO-SUCH-SKU")],
            },
        ),
        422,
        "unknown_sku",
    )
    assert_error(
        merchant.post(
            "/suppliers",
            json={"name": "X", "email": "not an email", "lead_time_days": 1, "items": [item(a)]},
        ),
        422,
        "invalid_email",
    )
    assert_error(
        merchant.post(
            "/suppliers",
            json={
                "name": "X",
                "email": "x@x.example",
                "lead_time_days": 1,
                "items": [item(a), item(a)],
            },
        ),
        422,
        "duplicate_sku",
    )
    for role in ("admin", "merchant", "analyst", "auditor"):
        with client_for(server, role=role) as client:
            r = client.get(f"/suppliers/{supplier_id}")
            assert r.status_code == 200, (role, r.text)
            assert {i["sku"] for i in r.json()["items"]} == {a, b}
            assert r.json()["lead_time_days"] == 5
    listed = merchant.get("/suppliers", params={"sku": a}).json()["items"]
    assert [s["id"] for s in listed] == [supplier_id]
    assert_error(merchant.get(f"/suppliers/{uuid4()}"), 404, "supplier_not_found")
    with client_for(server, role="analyst") as analyst:
        assert_error(analyst.post("/suppliers", json={}), 403)
    with client_for(server, role="customer", sub=str(uuid4())) as customer:
        assert_error(customer.get("/suppliers"), 403)
        assert_error(customer.get("/purchase-orders"), 403)


def test_orders_are_whole_packs_above_the_minimum_of_a_known_supplier(merchant, world):
    code, a, b, supplier_id = world

    def refused(body_lines, code_=code, supplier=supplier_id):  # noqa: ANN001, ANN202
        return merchant.post(
            "/purchase-orders",
            json={"supplier_id": supplier, "location": code_, "lines": body_lines},
        )

    assert_error(refused([{"sku": a, "quantity": 13}]), 422, "not_whole_packs")
    assert_error(refused([{"sku": a, "quantity": 6}]), 422, "below_minimum_order")
    assert_error(
        refused([{"sku": a, "quantity": 12}], code_="NO-SUCH-LOC"), 422, "unknown_location"
    )
    assert_error(
        refused([{"sku": a, "quantity": 12}], supplier=str(uuid4())), 422, "unknown_supplier"
    )
    assert_error(refused([{"sku": "NO-SUCH-SKU", "quantity": 1}]), 422, "unknown_sku")
    assert_error(refused([{"sku": a, "quantity": "twelve"}]), 422)
    assert_error(refused([]), 422)
    mine = merchant.get("/purchase-orders", params={"supplier_id": supplier_id}).json()["items"]
    assert mine == [], "a refused order writes nothing"


def test_an_order_goes_through_its_statuses_and_its_receipts_reach_the_shelf(
    server, merchant, world
):
    code, a, b, supplier_id = world
    made = new_order(merchant, supplier_id, code, {a: 12, b: 4})
    order_id = made["id"]
    assert_error(receipt(merchant, order_id, {a: 1}), 409, "purchase_order_not_ordered")
    assert_error(merchant.post(f"/purchase-orders/{order_id}/dispatch"), 409, "illegal_transition")
    step(merchant, order_id, "approve", "ordered")
    step(merchant, order_id, "dispatch", "in_transit")
    assert_error(merchant.post(f"/purchase-orders/{order_id}/cancel"), 409, "illegal_transition")

    r = receipt(merchant, order_id, {a: 6})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_transit" and r.json()["receipt_id"]
    assert_error(receipt(merchant, order_id, {a: 7}), 422, "over_receipt")
    assert_error(receipt(merchant, order_id, {"NO-SUCH": 1}), 422, "sku_not_on_order")
    last = receipt(merchant, order_id, {a: 6, b: 4})
    assert last.json()["status"] == "received"

    with client_for(server, role="auditor") as auditor:
        doc = auditor.get(
            f"/purchase-orders/{order_id}", params={"min_position": last.json()["position"]}
        ).json()
    assert doc["status"] == "received"
    assert {x["sku"]: (x["ordered"], x["received"]) for x in doc["lines"]} == {
        a: (12, 12),
        b: (4, 4),
    }
    stock = merchant.get(f"/inventory/{a}", params={"min_position": last.json()["position"]})
    assert stock.json()["on_hand"] == 12

    with client_for(server, role="analyst") as analyst:
        figures = analyst.get(
            "/replenishment/supplier-lead-times",
            params={"supplier_id": supplier_id, "min_position": last.json()["position"]},
        ).json()
    (figure,) = figures
    assert figure["orders_received"] == 1 and figure["promised_days"] == "5.00"
    assert float(figure["actual_days"]) < 1 and figure["on_time"] == 1


def test_a_cancelled_order_receives_nothing_and_unknown_orders_are_not_found(merchant, world):
    code, a, _b, supplier_id = world
    order_id = new_order(merchant, supplier_id, code, {a: 12})["id"]
    step(merchant, order_id, "cancel", "cancelled")
    step(merchant, order_id, "cancel", "cancelled")  # again: nothing to do
    assert_error(receipt(merchant, order_id, {a: 1}), 409, "purchase_order_cancelled")
    assert_error(
        merchant.post(f"/purchase-orders/{uuid4()}/approve"), 404, "purchase_order_not_found"
    )
    assert_error(merchant.get(f"/purchase-orders/{uuid4()}"), 404, "purchase_order_not_found")
    assert_error(merchant.get("/purchase-orders", params={"status": "lost"}), 422)
    assert_error(merchant.get("/purchase-orders", params={"cursor": "!!"}), 400, "malformed_cursor")


def test_stock_falling_to_its_reorder_point_drafts_a_pending_order(
    server, merchant, world, container
):
    code = world[0]
    sku = active_product(container)[1]
    supplier_id = new_supplier(merchant, [item(sku, pack=10, minimum=10)], lead_time_days=2)["id"]
    assert (
        merchant.post(
            f"/inventory/{sku}/receipts", json={"location": code, "quantity": 30}
        ).status_code
        == 200
    )
    r = merchant.put(
        f"/inventory/{sku}/thresholds",
        json={"location": code, "reorder_point": 10, "reorder_quantity": 15},
    )
    assert r.status_code == 200, r.text
    r = merchant.post(
        f"/inventory/{sku}/adjustments", json={"location": code, "delta": -20, "reason": "damage"}
    )
    assert r.status_code == 200, r.text

    with client_for(server, role="auditor") as auditor:
        rows = eventually(
            lambda: auditor.get("/replenishment/suggestions", params={"sku": sku}).json()["items"],
            lambda items: len(items) == 1,
        )
    (suggestion,) = rows
    assert suggestion["status"] == "open" and suggestion["location"] == code
    assert suggestion["quantity"] == 20 and suggestion["supplier_id"] == supplier_id
    order = eventually(
        lambda: merchant.get(f"/purchase-orders/{suggestion['purchase_order_id']}"),
        lambda resp: resp.status_code == 200,
    ).json()
    assert order["status"] == "pending" and order["suggestion_id"] == suggestion["id"]
    assert order["lines"] == [
        {
            "sku": sku,
            "ordered": 20,
            "received": 0,
            "unit_cost": {"amount": "2.50", "currency": "USD"},
        }
    ]
    assert_error(merchant.get("/replenishment/suggestions", params={"status": "maybe"}), 422)
