"""Bundles over HTTP, against a server running its process managers: create and read a bundle
priced at its components' current prices; ordering it reserves every component together
(component quantity × bundle quantity), all or none; cancelling releases every component."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.ids import inventory_stream
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    carried_out,
    deliver,
    detail,
    dispatch,
    edited,
    eventually,
    location,
    place_lines,
    receive,
    ship,
)
from tests.e2e.test_order_saga import settled, stocked_sku
from tests.factories import active_product


@pytest.fixture(scope="module")
def bapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def new_bundle(api, components: list[tuple[str, int]], pricing: dict | None = None) -> dict:
    sku = f"BND-{uuid4().hex[:10]}"
    body = {
        "sku": sku,
        "name": f"Bundle {sku}",
        "components": [{"sku": s, "quantity": q} for s, q in components],
        "pricing": pricing or {"type": "component_sum"},
    }
    r = api.post("/bundles", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def levels(api, sku: str) -> tuple[int, int, int]:
    inv = api.get(f"/inventory/{sku}").json()
    return inv["on_hand"], inv["reserved"], inv["available"]


def settle_levels(api, sku: str, expected: tuple[int, int, int]) -> tuple[int, int, int]:
    return eventually(lambda: levels(api, sku), lambda v: v == expected)


def test_a_bundle_reads_back_priced_at_its_components_current_prices(bapi, container):
    a = active_product(container, price="10.00")[1]
    b = active_product(container, price="3.33")[1]
    made = new_bundle(bapi, [(a, 2), (b, 1)], {"type": "percentage_discount", "value": "15"})
    r = bapi.get(f"/bundles/{made['id']}", params={"min_position": made["position"]})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["sku"] == made["sku"]
    assert doc["components"] == [{"sku": a, "quantity": 2}, {"sku": b, "quantity": 1}]
    # sum 23.33; × 0.85 = 19.8305 → 19.83 (half-up, once); savings 3.50 = 15.00 %
    assert doc["component_sum"] == {"amount": "23.33", "currency": "USD"}
    assert doc["price"] == {"amount": "19.83", "currency": "USD"}
    assert doc["savings"] == {"amount": "3.50", "currency": "USD"}
    assert doc["savings_percent"] == "15.00"


def test_a_bundle_sku_is_unique_across_products_and_bundles(bapi, container):
    a = active_product(container)[1]
    made = new_bundle(bapi, [(a, 1)])
    for taken in (made["sku"], a):
        body = {"sku": taken, "name": "x", "components": [{"sku": a, "quantity": 1}],
                "pricing": {"type": "component_sum"}}  # fmt: skip
        assert_error(bapi.post("/bundles", json=body), 409, "duplicate_sku")


@pytest.mark.parametrize(
    ("components", "pricing", "code"),
    [
        ([], {"type": "component_sum"}, "no_components"),
        ([("A", 0)], {"type": "component_sum"}, "invalid_component_quantity"),
        ([("A", 1), ("A", 2)], {"type": "component_sum"}, "duplicate_component"),
        ([("NOPE", 1)], {"type": "component_sum"}, "unknown_component"),
        ([("BUNDLE", 1)], {"type": "component_sum"}, "component_is_bundle"),
        ([("A", 1)], {"type": "percentage_discount", "value": "100.5"}, "invalid_percentage"),
        ([("A", 1)], {"type": "fixed_price", "value": "9.999"}, "currency_precision"),
        ([("A", 1)], {"type": "fixed_price", "value": "-1"}, "invalid_price"),
        ([("A", 1)], {"type": "fixed_price"}, "pricing_value_required"),
    ],
)
def test_bad_bundles_are_refused_precisely_and_write_nothing(
    bapi, container, components, pricing, code
):
    a = active_product(container)[1]
    inner = new_bundle(bapi, [(a, 1)])["sku"]
    names = {"A": a, "NOPE": f"NOPE-{uuid4().hex[:8]}", "BUNDLE": inner}
    sku = f"BND-{uuid4().hex[:10]}"
    body = {"sku": sku, "name": "Bad", "pricing": pricing,
            "components": [{"sku": names[s], "quantity": q} for s, q in components]}  # fmt: skip
    assert_error(bapi.post("/bundles", json=body), 422, code)
    again = {
        **body,
        "components": [{"sku": a, "quantity": 1}],
        "pricing": {"type": "component_sum"},
    }
    assert bapi.post("/bundles", json=again).status_code == 201  # the SKU was not claimed


def test_a_bundle_in_stock_is_confirmed_holding_every_component(bapi, container):
    wh = location(bapi, 1)
    a, b = stocked_sku(container, bapi, (wh, 10)), stocked_sku(container, bapi, (wh, 10))
    bundle = new_bundle(bapi, [(a, 2), (b, 1)], {"type": "fixed_price", "value": "25.00"})
    order = settled(bapi, place_lines(bapi, [(bundle["sku"], 3)]))
    assert order["status"] == "confirmed", order
    [line] = order["lines"]
    assert line["sku"] == bundle["sku"]
    assert line["unit_price"]["amount"] == "25.00" and line["reserved"] == 3
    assert settle_levels(bapi, a, (10, 6, 4)) == (10, 6, 4)  # 2 per bundle × 3
    assert settle_levels(bapi, b, (10, 3, 7)) == (10, 3, 7)


def test_a_bundle_with_a_component_out_of_stock_is_cancelled_holding_nothing(bapi, container):
    wh = location(bapi, 1)
    a = stocked_sku(container, bapi, (wh, 10))
    b = stocked_sku(container, bapi, (wh, 10))
    c = stocked_sku(container, bapi, (wh, 1))  # 2 bundles need 2
    plain = stocked_sku(container, bapi, (wh, 10))  # another line of the same order
    bundle = new_bundle(bapi, [(a, 1), (b, 2), (c, 1)])
    order = settled(bapi, place_lines(bapi, [(plain, 1), (bundle["sku"], 2)]))
    assert order["status"] == "cancelled" and order["cancellation_reason"] == "out_of_stock"
    for sku, on_hand in ((a, 10), (b, 10), (c, 1), (plain, 10)):
        assert levels(bapi, sku) == (on_hand, 0, on_hand), sku  # reserved unchanged: nothing held
    for sku in (a, b, c, plain):  # no hold was ever written, not even one released at once
        types = [
            e["type"] for e in bapi.get(f"/streams/{inventory_stream(sku)}/events").json()["items"]
        ]
        assert "inventory.StockReceived" in types and "inventory.StockReserved" not in types, types


def test_cancelling_a_confirmed_bundle_order_releases_every_component(bapi, container):
    wh = location(bapi, 1)
    a, b = stocked_sku(container, bapi, (wh, 5)), stocked_sku(container, bapi, (wh, 5))
    bundle = new_bundle(bapi, [(a, 1), (b, 2)])
    order = settled(bapi, place_lines(bapi, [(bundle["sku"], 2)]))
    assert order["status"] == "confirmed", order
    settle_levels(bapi, b, (5, 4, 1))
    r = bapi.post(
        f"/orders/{order['id']}/cancellation-requests", json={"reason": "customer_request"}
    )
    assert r.status_code == 201, r.text
    approved = bapi.post(f"/cancellation-requests/{r.json()['id']}/approve", json={})
    doc = carried_out(bapi, order["id"], approved)
    assert doc["status"] == "cancelled", doc
    assert settle_levels(bapi, a, (5, 0, 5)) == (5, 0, 5)
    assert settle_levels(bapi, b, (5, 0, 5)) == (5, 0, 5)


def confirmed_bundle(api, container, components, bundles: int, stock: int = 10):  # noqa: ANN001
    """A confirmed order of ``bundles`` of a new bundle of new SKUs (each ``stock`` at one new
    location): (location, component SKUs, bundle, order)."""
    wh = location(api, 1)
    skus = [stocked_sku(container, api, (wh, stock)) for _ in components]
    bundle = new_bundle(api, list(zip(skus, components, strict=True)))
    order = settled(api, place_lines(api, [(bundle["sku"], bundles)]))
    assert order["status"] == "confirmed", order
    return wh, skus, bundle, order


def test_shipping_bundles_commits_each_component_times_the_bundles_shipped(bapi, container):
    wh, (a, b), bundle, order = confirmed_bundle(bapi, container, [2, 1], 3)
    line_id = order["lines"][0]["line_id"]
    dispatch(bapi, order["id"], wh, line_id, 2)  # 2 of the 3 bundles leave
    assert settle_levels(bapi, a, (6, 2, 4)) == (6, 2, 4)  # 4 committed, 2 still held
    assert settle_levels(bapi, b, (8, 1, 7)) == (8, 1, 7)
    doc = eventually(lambda: detail(bapi, order["id"]), lambda d: d["lines"][0]["shipped"] == 2)
    assert doc["lines"][0]["reserved"] == 1
    assert_error(ship(bapi, order["id"], wh, line_id, 2), 422, "over_shipment")
    shipment = dispatch(bapi, order["id"], wh, line_id, 1)
    assert settle_levels(bapi, a, (4, 0, 4)) == (4, 0, 4)
    assert settle_levels(bapi, b, (7, 0, 7)) == (7, 0, 7)
    deliver(bapi, shipment["id"])
    r = bapi.post(
        f"/orders/{order['id']}/returns",
        json={"lines": [{"line_id": line_id, "quantity": 1}], "reason": "unwanted"},
    )
    assert r.status_code == 201, r.text
    done = receive(bapi, r.json()["id"], restock=True, location=wh)
    assert done["status"] == "refunded", done
    assert settle_levels(bapi, a, (6, 0, 6)) == (6, 0, 6)  # one bundle's components back
    assert settle_levels(bapi, b, (8, 0, 8)) == (8, 0, 8)
    streams = {order["id"], bundle["id"], str(inventory_stream(a)), str(inventory_stream(b))}
    parked = bapi.get("/projections/parked").json()["items"]
    assert not [p for p in parked if p["stream_id"] in streams], parked  # no view or step failed


def test_cancelling_after_a_partial_shipment_releases_the_rest_of_every_component(bapi, container):
    wh, (a, b), _bundle, order = confirmed_bundle(bapi, container, [1, 2], 2)
    dispatch(bapi, order["id"], wh, order["lines"][0]["line_id"], 1)
    assert settle_levels(bapi, b, (8, 2, 6)) == (8, 2, 6)
    r = bapi.post(
        f"/orders/{order['id']}/cancellation-requests", json={"reason": "customer_request"}
    )
    assert r.status_code == 201, r.text
    approved = bapi.post(f"/cancellation-requests/{r.json()['id']}/approve", json={})
    assert carried_out(bapi, order["id"], approved)["cancellation_request"]["status"] == "completed"
    assert settle_levels(bapi, a, (9, 0, 9)) == (9, 0, 9)
    assert settle_levels(bapi, b, (8, 0, 8)) == (8, 0, 8)


def test_edits_and_splits_of_bundle_lines_are_refused_with_their_code(bapi, container):
    wh, (a,), bundle, order = confirmed_bundle(bapi, container, [1], 2)
    line_id = order["lines"][0]["line_id"]
    before = bapi.get(f"/orders/{order['id']}/state").json()["version"]
    r = bapi.patch(f"/orders/{order['id']}/lines/{line_id}", json={"quantity": 1, "reason": "x"})
    assert_error(r, 422, "bundle_line_unsupported")
    r = bapi.post(
        f"/orders/{order['id']}/lines", json={"sku": bundle["sku"], "quantity": 1, "reason": "x"}
    )
    assert_error(r, 422, "bundle_line_unsupported")
    body = {
        "reason": "x",
        "parts": [{"location": wh, "lines": [{"line_id": line_id, "quantity": 1}]}],
    }
    assert_error(
        bapi.post(f"/orders/{order['id']}/splits", json=body), 422, "bundle_line_unsupported"
    )
    assert bapi.get(f"/orders/{order['id']}/state").json()["version"] == before
    assert levels(bapi, a) == (10, 2, 8)


def test_a_bundle_line_is_planned_per_component_and_its_counts_are_refused(bapi, container):
    wh, (a, b), _bundle, order = confirmed_bundle(bapi, container, [2, 1], 2)
    line_id = order["lines"][0]["line_id"]
    [plan] = eventually(
        lambda: bapi.get(f"/orders/{order['id']}/fulfillment-plans").json()["items"], bool
    )
    assert {(x["line_id"], x["sku"], x["allocated"]) for x in plan["lines"]} == {
        (line_id, a, 4), (line_id, b, 2),
    }  # fmt: skip
    r = bapi.patch(f"/fulfillment-plans/{plan['id']}", json={"status": "picking"})
    assert r.status_code == 200, r.text
    r = bapi.patch(f"/fulfillment-plans/{plan['id']}", json={"picked": {line_id: 1}})
    assert_error(r, 422, "bundle_line_unsupported")


def test_editing_another_line_keeps_the_bundles_holds(bapi, container):
    wh = location(bapi, 1)
    a, b, plain = (stocked_sku(container, bapi, (wh, 10)) for _ in range(3))
    bundle = new_bundle(bapi, [(a, 2), (b, 1)])
    order = settled(bapi, place_lines(bapi, [(plain, 2), (bundle["sku"], 2)]))
    assert order["status"] == "confirmed", order
    plain_line = order["lines"][0]["line_id"]
    r = bapi.patch(
        f"/orders/{order['id']}/lines/{plain_line}", json={"quantity": 3, "reason": "more"}
    )
    doc = edited(bapi, order["id"], r)
    assert [(x["quantity"], x["reserved"]) for x in doc["lines"]] == [(3, 3), (2, 2)]
    assert settle_levels(bapi, plain, (10, 3, 7)) == (10, 3, 7)
    assert settle_levels(bapi, a, (10, 4, 6)) == (10, 4, 6)
    assert settle_levels(bapi, b, (10, 2, 8)) == (10, 2, 8)
