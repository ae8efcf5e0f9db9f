"""Analytics over HTTP: JSON and CSV, date-range filters, roles, and reorder suggestions."""

from __future__ import annotations

import csv
import io
from uuid import uuid4

from tests.e2e.conftest import assert_error, client_for
from tests.e2e.test_audit_api import _read_when_caught_up
from tests.factories import active_product

ADDRESS = {"name": "N", "line1": "L", "city": "C", "postal_code": "P", "country": "US"}


def _place(api, sku, quantity=2):
    order = {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "channel": "ebay",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment": {"token": "tok"},
    }
    r = api.post("/orders", json=order)
    assert r.status_code in (201, 202), r.text
    return r.json()


def test_sales_and_products_answer_json_and_csv(api, container):
    sku = active_product(container, price="4.25")[1]
    placed = _place(api, sku, 2)
    pos = placed["position"]
    sales = _read_when_caught_up(api, "/analytics/sales", pos)["items"]
    assert any(r["channel"] == "ebay" and r["currency"] == "USD" for r in sales)
    products = _read_when_caught_up(api, "/analytics/products", pos)["items"]
    mine = [r for r in products if r["sku"] == sku]
    [row] = mine
    # the order has no stock: the saga may have cancelled it by now, all its units with it
    cancelled = row["cancelled_units"]
    assert cancelled in (0, 2)
    assert row == {
        "sku": sku,
        "product_id": row["product_id"],
        "currency": "USD",
        "orders": 1,
        "units": 2,
        "cancelled_units": cancelled,
        "returned_units": 0,
        "net_units": 2 - cancelled,
        "gross_revenue": "8.50",
        "discounts": "0.00",
        "cancelled_amount": "8.50" if cancelled else "0.00",
        "returned_amount": "0.00",
        "net_revenue": "0.00" if cancelled else "8.50",
        "revenue": "0.00" if cancelled else "8.50",
    }
    r = api.get("/analytics/products", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert any(row["sku"] == sku and row["gross_revenue"] == "8.50" for row in rows)
    r = api.get("/analytics/sales", headers={"Accept": "text/csv"})
    assert r.text.splitlines()[0].startswith("day,channel,currency,orders")


def test_every_report_answers(api):
    for path in (
        "/analytics/average-order-value",
        "/analytics/top-products",
        "/analytics/fulfillment",
        "/analytics/cancellations",
        "/analytics/reorder-suggestions",
        "/analytics/cancellations/reasons",
        "/analytics/orders-by-status",
    ):
        assert api.get(path).status_code == 200, path
        assert api.get(path, params={"format": "csv"}).status_code == 200, path


def test_date_ranges_filter_and_bad_ranges_are_refused(api):
    far = api.get("/analytics/sales", params={"from": "1990-01-01", "to": "1990-12-31"})
    assert far.json() == {"items": []}
    assert_error(
        api.get("/analytics/sales", params={"from": "2030-01-02", "to": "2030-01-01"}),
        422,
        "invalid_date_range",
    )
    assert_error(api.get("/analytics/sales", params={"from": "yesterday"}), 422)
    assert_error(api.get("/analytics/top-products", params={"by": "mood"}), 422)


def test_analysts_read_analytics_and_auditors_do_not(server_url):
    with client_for(server_url, role="analyst") as analyst:
        assert analyst.get("/analytics/sales").status_code == 200
    with client_for(server_url, role="auditor") as auditor:
        assert_error(auditor.get("/analytics/sales"), 403)


def test_reorder_suggestions_follow_the_formula(api, container):
    sku = active_product(container)[1]
    code = f"AN-{uuid4().hex[:8]}"
    assert (
        api.post(
            "/locations", json={"code": code, "name": "W", "type": "warehouse", "priority": 1}
        ).status_code
        == 201
    )
    api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": 3})
    r = api.put(
        f"/inventory/{sku}/thresholds",
        json={"location": code, "reorder_point": 5, "max_stock": 40},
    )
    assert r.status_code == 200, r.text
    path = f"/analytics/reorder-suggestions?location={code}"
    rows = _read_when_caught_up(api, path, r.json()["position"])["items"]
    assert [(x["sku"], x["suggested_reorder_quantity"]) for x in rows] == [(sku, 37)]
    # a configured reorder quantity is what is suggested
    r = api.put(
        f"/inventory/{sku}/thresholds",
        json={"location": code, "reorder_point": 5, "reorder_quantity": 12, "max_stock": 40},
    )
    assert r.status_code == 200, r.text
    rows = _read_when_caught_up(api, path, r.json()["position"])["items"]
    assert [(x["reorder_quantity"], x["suggested_reorder_quantity"]) for x in rows] == [(12, 12)]


def test_day_buckets_take_an_iana_time_zone_and_refuse_an_unknown_one(api):
    assert api.get("/analytics/sales", params={"tz": "Asia/Kolkata"}).status_code == 200
    assert_error(api.get("/analytics/sales", params={"tz": "Mars/Base"}), 422, "unknown_time_zone")


def test_every_report_has_a_typed_schema_and_a_csv_variant_in_openapi(server_url):
    with client_for(server_url) as admin:
        doc = admin.get(server_url + "/openapi.json").json()
    reports = {p: v["get"] for p, v in doc["paths"].items() if p.startswith("/api/v1/analytics/")}
    assert len(reports) >= 9
    for path, op in reports.items():
        content = op["responses"]["200"]["content"]
        ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert doc["components"]["schemas"][ref]["properties"], path
        assert content["text/csv"]["schema"]["type"] == "string", path
        if path != "/api/v1/analytics/reorder-suggestions":
            assert "tz" in {x["name"] for x in op["parameters"]}, path
