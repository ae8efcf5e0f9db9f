"""Inventory over HTTP: receipts, adjustments, transfers, thresholds, levels, the low-stock list
and movements, with read-your-writes; bad input is a documented 4xx that writes nothing."""

from uuid import uuid4

import pytest

from commands import sku_lookup
from commands.context import CommandContext
from domain.ids import inventory_stream
from domain.inventory.commands import ReserveStock
from tests.e2e.conftest import assert_error
from tests.factories import send


@pytest.fixture
def sku(container) -> str:
    value = f"E2E-INV-{uuid4().hex[:8]}"
    container.store.append([sku_lookup.claim(value, uuid4())], CommandContext.new("t").meta())
    return value


def new_location(api) -> str:
    code = f"E2E-WH-{uuid4().hex[:8]}"
    body = {"code": code, "name": "W", "type": "warehouse", "priority": 1}
    assert api.post("/locations", json=body).status_code == 201
    return code


@pytest.fixture
def wh(api) -> str:
    return new_location(api)


def receive(api, sku, wh, quantity=10, **extra):
    r = api.post(f"/inventory/{sku}/receipts", json={"location": wh, "quantity": quantity, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_receipt_answers_with_totals_and_shows_in_the_levels(api, sku, wh):
    r = api.post(
        f"/inventory/{sku}/receipts", json={"location": wh, "quantity": 10, "reference": "PO-9"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "sku": sku,
        "version": 1,
        "position": body["position"],
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }
    assert r.headers["etag"] == '"1"'
    got = api.get(f"/inventory/{sku}", params={"min_position": body["position"]})
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    level = got.json()
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 0, 10)
    assert [(x["location"], x["on_hand"]) for x in level["locations"]] == [(wh, 10)]


def test_adjustments_and_transfers_move_stock_and_are_listed_as_movements(api, sku, wh):
    other = new_location(api)
    receive(api, sku, wh, 10)
    adj = api.post(
        f"/inventory/{sku}/adjustments", json={"location": wh, "delta": -2, "reason": "damage"}
    )
    assert adj.status_code == 200 and adj.json()["on_hand"] == 8
    moved = api.post(
        f"/inventory/{sku}/transfers",
        json={"from_location": wh, "to_location": other, "quantity": 3},
    )
    assert moved.status_code == 200 and moved.json()["on_hand"] == 8
    position = moved.json()["position"]
    page = api.get(f"/inventory/{sku}/movements", params={"min_position": position, "limit": 2})
    assert page.status_code == 200
    first = page.json()
    assert [(m["type"], m["quantity"]) for m in first["items"]] == [("receipt", 10), ("damage", -2)]
    rest = api.get(f"/inventory/{sku}/movements", params={"cursor": first["next_cursor"]}).json()
    assert [(m["type"], m["location"], m["quantity"]) for m in rest["items"]] == [
        ("transfer_out", wh, -3),
        ("transfer_in", other, 3),
    ]
    assert rest["next_cursor"] is None
    levels = api.get(f"/inventory/{sku}", params={"min_position": position}).json()
    assert {x["location"]: x["on_hand"] for x in levels["locations"]} == {wh: 5, other: 3}


def test_thresholds_put_a_location_on_the_low_stock_list(api, sku, wh):
    receive(api, sku, wh, 4)
    r = api.put(
        f"/inventory/{sku}/thresholds",
        json={"location": wh, "reorder_point": 5, "reorder_quantity": 20, "max_stock": 100},
    )
    assert r.status_code == 200, r.text
    listed = api.get(
        "/inventory",
        params={"low_stock": "true", "location": wh, "min_position": r.json()["position"]},
    ).json()
    assert [(x["sku"], x["low_stock"], x["reorder_point"]) for x in listed["items"]] == [
        (sku, True, 5)
    ]
    receive(api, sku, wh, 10)
    after = api.get("/inventory", params={"low_stock": "false", "location": wh, "limit": 1})
    assert after.status_code == 200


def test_the_inventory_list_pages_with_a_cursor(api, container, sku, wh):
    second = f"{sku}-B"
    container.store.append([sku_lookup.claim(second, uuid4())], CommandContext.new("t").meta())
    receive(api, sku, wh, 1)
    last = receive(api, second, wh, 1)
    params = {"location": wh, "limit": 1, "min_position": last["position"]}
    first = api.get("/inventory", params=params).json()
    rest = api.get("/inventory", params={**params, "cursor": first["next_cursor"]}).json()
    assert [x["sku"] for x in first["items"]] == [sku]
    assert [x["sku"] for x in rest["items"]] == [second]
    assert rest["next_cursor"] is None


def test_the_same_idempotency_key_replays_the_receipt(api, sku, wh):
    headers = {"Idempotency-Key": f"inv-{uuid4().hex}"}
    body = {"location": wh, "quantity": 3}
    first = api.post(f"/inventory/{sku}/receipts", json=body, headers=headers)
    again = api.post(f"/inventory/{sku}/receipts", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = api.post(f"/inventory/{sku}/receipts", json={**body, "quantity": 4}, headers=headers)
    assert_error(other, 422, "idempotency_key_reused")


def test_an_unknown_sku_is_not_found_on_reads(api):
    missing = f"E2E-NONE-{uuid4().hex[:8]}"
    assert_error(api.get(f"/inventory/{missing}"), 404, "inventory_not_found")
    assert_error(api.get(f"/inventory/{missing}/movements"), 404, "inventory_not_found")


def test_a_known_sku_without_stock_reads_as_zero(api, sku):
    claimed = api.get("/events", params={"limit": 1}).json()["head"]  # the fixture's claim
    got = api.get(f"/inventory/{sku}", params={"min_position": claimed})
    assert got.status_code == 200
    assert got.json() == {
        "sku": sku,
        "version": 0,
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "locations": [],
    }


BAD_RECEIPTS = [
    ({"quantity": 0}, 422, "validation_error"),
    ({"quantity": -5}, 422, "validation_error"),
    ({"quantity": "5"}, 422, "validation_error"),
    ({"quantity": 1.5}, 422, "validation_error"),
    ({"quantity": True}, 422, "validation_error"),
    ({"quantity": 1, "colour": "red"}, 422, "validation_error"),
    ({"quantity": 1, "location": "bad code!"}, 422, "validation_error"),
    ({"quantity": 1, "location": "NO-SUCH-WH"}, 422, "unknown_location"),
]


@pytest.mark.parametrize(("change", "status", "code"), BAD_RECEIPTS)
def test_a_bad_receipt_is_refused_and_writes_nothing(api, container, sku, wh, change, status, code):
    r = api.post(f"/inventory/{sku}/receipts", json={"location": wh, **change})
    assert_error(r, status, code)
    assert container.store.stream_version(inventory_stream(sku)) == 0


def test_a_receipt_for_an_unknown_sku_is_invalid(api, container, wh):
    missing = f"E2E-NONE-{uuid4().hex[:8]}"
    r = api.post(f"/inventory/{missing}/receipts", json={"location": wh, "quantity": 1})
    assert_error(r, 422, "unknown_sku")
    assert container.store.stream_version(inventory_stream(missing)) == 0
    assert_error(
        api.post("/inventory/bad sku!/receipts", json={"location": wh, "quantity": 1}), 422
    )


def test_a_malformed_body_is_a_400(api, sku):
    r = api.post(
        f"/inventory/{sku}/receipts",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400)


def test_an_adjustment_below_reserved_is_a_conflict_and_writes_nothing(api, container, sku, wh):
    receive(api, sku, wh, 5)
    reserve = ReserveStock(
        sku=sku,
        reservation_id=uuid4(),
        order_id=uuid4(),
        line_id=uuid4(),
        location=wh,
        quantity=3,
        expires_at=None,
    )
    send(container, reserve, CommandContext.new("saga"))
    version = container.store.stream_version(inventory_stream(sku))
    r = api.post(
        f"/inventory/{sku}/adjustments", json={"location": wh, "delta": -3, "reason": "loss"}
    )
    assert_error(r, 409, "insufficient_stock")
    assert container.store.stream_version(inventory_stream(sku)) == version
    ok = api.post(
        f"/inventory/{sku}/adjustments", json={"location": wh, "delta": -2, "reason": "loss"}
    )
    assert ok.status_code == 200
    assert (ok.json()["on_hand"], ok.json()["reserved"], ok.json()["available"]) == (3, 3, 0)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"delta": -1, "reason": "x"}, 409, "insufficient_stock"),
        ({"delta": 0, "reason": "x"}, 422, "invalid_delta"),
        ({"delta": 1}, 422, "validation_error"),
        ({"delta": 1, "reason": ""}, 422, "validation_error"),
        ({"delta": "1", "reason": "x"}, 422, "validation_error"),
    ],
)
def test_bad_adjustments_are_refused(api, container, sku, wh, body, status, code):
    assert_error(
        api.post(f"/inventory/{sku}/adjustments", json={"location": wh, **body}), status, code
    )
    assert container.store.stream_version(inventory_stream(sku)) == 0


def test_bad_transfers_are_refused_and_write_nothing(api, container, sku, wh):
    other = new_location(api)
    receive(api, sku, wh, 2)
    url = f"/inventory/{sku}/transfers"
    cases = [
        ({"from_location": wh, "to_location": other, "quantity": 3}, 409, "insufficient_stock"),
        ({"from_location": wh, "to_location": wh, "quantity": 1}, 422, "same_location"),
        ({"from_location": wh, "to_location": "NO-SUCH", "quantity": 1}, 422, "unknown_location"),
        ({"from_location": wh, "to_location": other, "quantity": 0}, 422, "validation_error"),
        ({"from_location": wh, "to_location": other}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(api.post(url, json=body), status, code)
    assert container.store.stream_version(inventory_stream(sku)) == 1


def test_bad_thresholds_are_refused(api, container, sku, wh):
    url = f"/inventory/{sku}/thresholds"
    assert_error(api.put(url, json={"location": wh, "reorder_point": -1}), 422)
    assert_error(
        api.put(url, json={"location": wh, "reorder_point": 5, "max_stock": 2}),
        422,
        "invalid_thresholds",
    )
    assert_error(
        api.put(url, json={"location": "NO-SUCH", "reorder_point": 1}), 422, "unknown_location"
    )
    assert container.store.stream_version(inventory_stream(sku)) == 0


def test_list_filters_and_cursors_are_validated(api):
    assert_error(api.get("/inventory", params={"low_stock": "maybe"}), 422)
    assert_error(api.get("/inventory", params={"limit": 0}), 422)
    assert_error(api.get("/inventory", params={"cursor": "!!!"}), 400, "malformed_cursor")


def test_the_openapi_document_describes_the_inventory_endpoints(api):
    paths = api.get("/../../openapi.json").json()["paths"]
    for path in (
        "/api/v1/inventory",
        "/api/v1/inventory/{sku}",
        "/api/v1/inventory/{sku}/receipts",
        "/api/v1/inventory/{sku}/adjustments",
        "/api/v1/inventory/{sku}/transfers",
        "/api/v1/inventory/{sku}/thresholds",
        "/api/v1/inventory/{sku}/movements",
    ):
        assert path in paths
