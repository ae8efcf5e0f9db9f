"""Fulfillment over HTTP against a server running its process managers: plans, shipments,
tracking, delivery attempts, splits, cancellation requests, returns, refunds and the ledger."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest

from domain.ids import payment_stream
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_order_saga import ADDRESS, settled, stocked_sku


@pytest.fixture(scope="module")
def fapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def location(api, priority: int) -> str:
    """A new active location, once the saga's allocation (which reads the locations view)
    can see it."""
    code = f"FL-{uuid4().hex[:8]}"
    r = api.post(
        "/locations", json={"code": code, "name": code, "type": "warehouse", "priority": priority}
    )
    assert r.status_code == 201, r.text
    r = api.get("/locations", params={"min_position": r.json()["position"], "limit": 1})
    assert r.status_code == 200, r.text
    return code


def place_lines(api, lines: list[tuple[str, int]], token: str = "tok_visa") -> str:
    r = api.post(
        "/orders",
        json={
            "customer_id": str(uuid4()),
            "currency": "USD",
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "shipping_address": ADDRESS,
            "payment": {"method": "card", "token": token},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def confirmed(api, container, *lines: int, stock: int = 10, token: str = "tok_visa"):
    """A confirmed order with one SKU per quantity, all stocked at one new location."""
    wh = location(api, 1)
    skus = [stocked_sku(container, api, (wh, stock)) for _ in lines]
    order = settled(api, place_lines(api, list(zip(skus, lines, strict=True)), token=token))
    assert order["status"] == "confirmed", (order.get("cancellation_reason"), order)
    return wh, skus, order


def eventually(fetch, check, timeout_s: float = 15):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if check(value):
            return value
        assert time.monotonic() < deadline, value
        time.sleep(0.05)


def at(r) -> dict:  # noqa: ANN001
    """Read-your-writes: ``?min_position=`` of a command's answer (``r`` a response or its
    position), so a read model GET right after the command cannot race it."""
    position = r if isinstance(r, int) else r.json()["position"]
    return {"min_position": position}


def stream_head(api, stream_id: str) -> int:  # noqa: ANN001
    """The position of the stream's last event (what a read model must have seen for it)."""
    items = api.get(f"/streams/{stream_id}/events").json()["items"]
    return max(e["position"] for e in items)


def settled_return(api, return_id: str, after: int | None = None, timeout_s: float = 15) -> dict:
    """The return once the returns manager has settled its refund (``refund`` no longer
    ``pending``; read after position ``after``, a receipt's), with ``position``, its stream's
    last event (for ``at``)."""
    params = {"min_position": after} if after else None
    got = eventually(
        lambda: api.get(f"/returns/{return_id}", params=params).json(),
        lambda d: d.get("refund") not in (None, "pending"),
        timeout_s,
    )
    return {**got, "position": stream_head(api, return_id)}


def receive(api, return_id: str, **body) -> dict:  # noqa: ANN003
    """Receive a return: answered at once (``202``, refund ``pending``), then settled by the
    returns manager; the settled return."""
    r = api.post(f"/returns/{return_id}/receive", json=body)
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["refund"]) == ("received", "pending"), r.text
    return settled_return(api, return_id, r.json()["position"])


def detail(api, order_id: str, min_position: int | None = None) -> dict:
    params = {"min_position": min_position} if min_position else None
    r = api.get(f"/orders/{order_id}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def plans(api, order_id: str) -> list[dict]:
    return eventually(
        lambda: api.get(f"/orders/{order_id}/fulfillment-plans").json()["items"], bool
    )


def ship(api, order_id, wh, line_id, quantity, carrier="UPS"):  # noqa: ANN001
    return api.post(
        f"/orders/{order_id}/shipments",
        json={
            "location": wh,
            "lines": [{"line_id": line_id, "quantity": quantity}],
            "carrier": carrier,
        },  # fmt: skip
    )


def stream_events(api, stream_id) -> list[dict]:  # noqa: ANN001
    body = api.get(f"/streams/{stream_id}/events").json()
    return body["items"] if isinstance(body, dict) else body


def written(api, stream_id, event_type: str, timeout_s: float = 30, **data) -> dict:  # noqa: ANN001
    """The stream's ``event_type`` event whose data has ``data``, once the fulfillment process
    manager has written it (the request that asked for it answered before)."""

    def found(events: list[dict]) -> list[dict]:
        return [
            e
            for e in events
            if e["type"] == event_type and all(e["data"].get(k) == v for k, v in data.items())
        ]

    return found(eventually(lambda: stream_events(api, stream_id), found, timeout_s))[0]


def dispatch(api, order_id, wh, line_id, quantity) -> dict:  # noqa: ANN001
    """Open a shipment and dispatch it, then wait for the process manager's steps: the lines
    shipped on the order and the capture (the plan follows)."""
    r = ship(api, order_id, wh, line_id, quantity)
    assert r.status_code == 201, r.text
    shipment = r.json()
    r = api.post(f"/shipments/{shipment['id']}/events", json={"status": "picked_up"})
    assert r.status_code == 201, r.text
    written(api, order_id, "order.LinesShipped", shipment_id=shipment["id"])
    written(api, payment_stream(UUID(order_id)), "payment.PaymentCaptured",
            shipment_id=shipment["id"])  # fmt: skip
    return shipment


def deliver(api, shipment_id: str) -> dict:
    """A successful delivery attempt, then the order's ``LinesDelivered`` (the process
    manager's)."""
    r = api.post(f"/shipments/{shipment_id}/delivery-attempts", json={"outcome": "successful"})
    assert r.status_code == 201, r.text
    order_id = stream_events(api, shipment_id)[0]["data"]["order_id"]
    written(api, order_id, "order.LinesDelivered", shipment_id=shipment_id)
    return r.json()


def carried_out(api, order_id: str, approved) -> dict:  # noqa: ANN001
    """An approval answers ``202 approved``; the order once the process manager has carried
    the cancellation out (its request ``completed`` or ``failed``)."""
    assert approved.status_code == 202, approved.text
    assert approved.json()["status"] == "approved"
    return eventually(
        lambda: detail(api, order_id, approved.json()["position"]),
        lambda d: d["cancellation_request"]["status"] in ("completed", "failed"),
        timeout_s=30,
    )


# ---- plans -------------------------------------------------------------------------------


def test_s21_a_confirmed_order_has_one_plan_per_location(fapi, container):
    wh1, wh2 = location(fapi, 1), location(fapi, 2)
    sku = stocked_sku(container, fapi, (wh1, 2), (wh2, 2))
    order = settled(fapi, place_lines(fapi, [(sku, 3)]))
    got = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/fulfillment-plans").json()["items"],
        lambda items: len(items) == 2,
    )
    assert sorted((p["location"], p["lines"][0]["allocated"]) for p in got) == sorted(
        [(wh1, 2), (wh2, 1)]
    )
    assert {p["status"] for p in got} == {"planned"}


def test_s7_plan_moves_forward_and_picking_makes_the_order_processing(fapi, container):
    _wh, _skus, order = confirmed(fapi, container, 2)
    plan = plans(fapi, order["id"])[0]
    line_id = plan["lines"][0]["line_id"]
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"status": "picking"})
    assert r.status_code == 200 and r.json()["status"] == "picking"
    assert detail(fapi, order["id"], r.json()["position"])["status"] == "processing"
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"picked": {line_id: 3}})
    assert_error(r, 422, "picked_exceeds_allocated")
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"picked": {line_id: 1}})
    assert r.status_code == 200
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"packed": {line_id: 2}})
    assert_error(r, 422, "packed_exceeds_picked")
    r = fapi.patch(
        f"/fulfillment-plans/{plan['id']}",
        json={"status": "packed", "picked": {line_id: 2}, "packed": {line_id: 2}},
    )
    assert r.status_code == 200 and r.json()["status"] == "packed"
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"status": "planned"})
    assert_error(r, 409)
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"status": "on_hold"})
    assert r.json()["status"] == "on_hold"
    r = fapi.patch(f"/fulfillment-plans/{plan['id']}", json={"status": "packed"})
    assert r.json()["status"] == "packed"
    assert_error(fapi.get(f"/fulfillment-plans/{uuid4()}"), 404, "plan_not_found")


def test_the_pick_list_shows_open_plan_lines_of_a_location(fapi, container):
    wh, skus, order = confirmed(fapi, container, 2)
    plan = plans(fapi, order["id"])[0]
    items = eventually(
        lambda: fapi.get(f"/locations/{wh}/pick-list").json()["items"], lambda i: len(i) == 1
    )
    assert (items[0]["plan_id"], items[0]["sku"], items[0]["allocated"]) == (
        plan["id"],
        skus[0],
        2,
    )


# ---- shipments -----------------------------------------------------------------------------


def test_s5_shipments_are_numbered_and_over_shipping_writes_nothing(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 3)
    line_id = order["lines"][0]["line_id"]
    first = ship(fapi, order["id"], wh, line_id, 2)
    assert first.status_code == 201 and first.json()["number"] == 1
    assert first.json()["status"] == "pending"
    version = fapi.get(f"/orders/{order['id']}/state").json()["version"]
    assert_error(ship(fapi, order["id"], wh, line_id, 2), 422, "over_shipment")
    assert_error(ship(fapi, order["id"], wh, "nope", 1), 422, "unknown_line")
    assert fapi.get(f"/orders/{order['id']}/state").json()["version"] == version
    second = ship(fapi, order["id"], wh, line_id, 1)
    assert second.json()["number"] == 2


def test_s6_picked_up_dispatches_commits_stock_captures_and_advances_the_order(fapi, container):
    wh, skus, order = confirmed(fapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    r = ship(fapi, order["id"], wh, line_id, 1)
    shipment = r.json()
    r = fapi.post(
        f"/shipments/{shipment['id']}/events",
        json={"status": "label_created", "tracking_number": "TRACK123456"},
    )
    assert r.status_code == 201 and r.json()["status"] == "label_created"
    r = fapi.post(f"/shipments/{shipment['id']}/events", json={"status": "picked_up"})
    assert r.json()["status"] == "shipped"  # the shipment's, at once; then the manager's steps
    written(fapi, order["id"], "order.LinesShipped", shipment_id=shipment["id"])
    captured = written(fapi, payment_stream(UUID(order["id"])), "payment.PaymentCaptured",
                       shipment_id=shipment["id"])["position"]  # fmt: skip
    inv = fapi.get(f"/inventory/{skus[0]}", params=at(captured)).json()
    assert (inv["on_hand"], inv["reserved"]) == (9, 1)
    doc = detail(fapi, order["id"], captured)
    assert doc["status"] == "partially_shipped" and doc["lines"][0]["shipped"] == 1
    assert doc["shipments"][0]["tracking_number"] == "TRACK123456"
    assert doc["payment_status"] == "partially_paid"
    # a late label_created never moves it back
    r = fapi.post(f"/shipments/{shipment['id']}/events", json={"status": "label_created"})
    assert r.json()["status"] == "shipped"
    r = fapi.post(f"/shipments/{shipment['id']}/events", json={"status": "picked_up"})
    assert r.json()["status"] == "shipped"
    seen = at(r)
    timeline = fapi.get(f"/orders/{order['id']}/timeline", params=seen).json()["items"]
    assert "shipment_tracking_updated" in [e["type"] for e in timeline]
    assert fapi.get(f"/inventory/{skus[0]}", params=seen).json()["on_hand"] == 9  # committed once
    last = dispatch(fapi, order["id"], wh, line_id, 1)
    doc = eventually(
        lambda: detail(fapi, order["id"]),
        lambda d: (d["status"], d["payment_status"]) == ("shipped", "paid"),
    )
    assert last["number"] == 2
    ledger = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/payments").json(),
        lambda x: len(x["captures"]) == 2,
    )
    assert ledger["captured"] == ledger["authorized"] == order["total"]["amount"]


def test_s8_delivery_attempts_are_numbered_and_success_delivers(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 1)
    shipment = dispatch(fapi, order["id"], wh, order["lines"][0]["line_id"], 1)
    r = fapi.post(
        f"/shipments/{shipment['id']}/delivery-attempts",
        json={"outcome": "customer_not_home", "failure_reason": "nobody answered"},
    )
    assert r.status_code == 201 and r.json()["attempt"] == 1
    assert r.json()["status"] != "delivered"
    first = r.json()["position"]
    r = fapi.post(f"/shipments/{shipment['id']}/delivery-attempts", json={"outcome": "failed"})
    assert_error(r, 422, "failure_reason_required")
    doc = detail(fapi, order["id"], first)  # read-your-writes: the first attempt is in
    assert doc["shipments"][0]["attempts"][0]["outcome"] == "customer_not_home"
    eventually(
        lambda: [e["type"] for e in fapi.get(f"/orders/{order['id']}/timeline").json()["items"]],
        lambda types: "delivery_attempt_recorded" in types,
    )
    r = deliver(fapi, shipment["id"])
    assert (r["attempt"], r["status"]) == (2, "delivered")
    doc = eventually(lambda: detail(fapi, order["id"]), lambda d: d["status"] == "delivered")
    assert doc["lines"][0]["delivered"] == 1 and doc["fulfillment_status"] == "fulfilled"


def test_refusal_or_a_third_failure_means_exception(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    refused = dispatch(fapi, order["id"], wh, line_id, 1)
    r = fapi.post(
        f"/shipments/{refused['id']}/delivery-attempts",
        json={"outcome": "refused_by_customer", "failure_reason": "did not want it"},
    )
    assert r.json()["status"] == "exception"
    other = dispatch(fapi, order["id"], wh, line_id, 1)
    for n in range(3):
        r = fapi.post(
            f"/shipments/{other['id']}/delivery-attempts",
            json={"outcome": "weather_delay", "failure_reason": "snow"},
        )
        assert r.json()["attempt"] == n + 1
    assert r.json()["status"] == "exception"


def test_shipping_before_confirmation_is_refused(fapi, container):
    wh = location(fapi, 1)
    sku = stocked_sku(container, fapi, (wh, 5))
    order = settled(fapi, place_lines(fapi, [(sku, 1)], token="tok_declined"))
    assert_error(ship(fapi, order["id"], wh, order["lines"][0]["line_id"], 1), 409)


# ---- splits --------------------------------------------------------------------------------


def test_s3_s4_a_split_creates_children_that_conserve_quantities(fapi, container):
    wh1, wh2 = location(fapi, 1), location(fapi, 2)
    a = stocked_sku(container, fapi, (wh1, 5), (wh2, 5))
    b = stocked_sku(container, fapi, (wh1, 5), (wh2, 5))
    order = settled(fapi, place_lines(fapi, [(a, 2), (b, 1)]))
    l1, l2 = (x["line_id"] for x in order["lines"])
    r = fapi.post(
        f"/orders/{order['id']}/splits",
        json={
            "reason": "multi_warehouse",
            "parts": [
                {"location": wh1, "lines": [{"line_id": l1, "quantity": 2}]},
                {"location": wh2, "lines": [{"line_id": l2, "quantity": 1}]},
            ],
        },
    )
    assert r.status_code == 201, r.text
    children = r.json()["children"]
    split_at = at(r)
    listed = fapi.get(f"/orders/{order['id']}/children", params=split_at).json()["items"]
    assert [c["id"] for c in listed] == [c["id"] for c in children]
    assert [(c["location"], c["lines"][0]["quantity"]) for c in listed] == [(wh1, 2), (wh2, 1)]
    for child, wh in zip(children, (wh1, wh2), strict=True):
        doc = settled(fapi, child["id"])
        assert doc["status"] == "confirmed" and doc["parent_order_id"] == order["id"]
        assert {x["location"] for x in doc["allocations"]} == {wh}
    timeline = fapi.get(f"/orders/{order['id']}/timeline", params=split_at).json()["items"]
    # the order's own last entry (the timeline also joins its payment's void, which may follow)
    assert [e for e in timeline if e["stream_type"] == "order"][-1]["type"] == "order_split"
    # the parent is frozen and its holds are released: only the children hold stock
    assert_error(ship(fapi, order["id"], wh1, l1, 1), 409, "order_frozen")
    inv = eventually(lambda: fapi.get(f"/inventory/{a}").json(), lambda x: x["reserved"] == 2)
    assert inv["available"] == 8


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([], "split_too_few_parts"),
        ([{"lines": []}, {"lines": []}], "split_empty_part"),
        ([{"lines": [("x", 1)]}, {"lines": [(0, 1)]}], "unknown_line"),
        ([{"lines": [(0, 1)]}, {"lines": [(0, 2)]}], "split_quantities_mismatch"),
    ],
)
def test_s20_an_invalid_split_is_refused_with_a_code_and_writes_nothing(
    fapi, container, parts, code
):
    wh, _skus, order = confirmed(fapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    body = {
        "reason": "multi_warehouse",
        "parts": [
            {
                "location": wh,
                "lines": [
                    {"line_id": line_id if ref == 0 else ref, "quantity": q}
                    for ref, q in part["lines"]
                ],
            }
            for part in parts
        ],
    }
    before = fapi.get(f"/orders/{order['id']}/state").json()["version"]
    assert_error(fapi.post(f"/orders/{order['id']}/splits", json=body), 422, code)
    assert fapi.get(f"/orders/{order['id']}/state").json()["version"] == before
    assert fapi.get(f"/orders/{order['id']}/children").json()["items"] == []


# ---- cancellation requests ------------------------------------------------------------------


def request_cancel(api, order_id: str):
    return api.post(
        f"/orders/{order_id}/cancellation-requests", json={"reason": "customer_request"}
    )


def test_s9_s10_a_request_is_pending_then_approval_cancels_releases_and_voids(fapi, container):
    _wh, skus, order = confirmed(fapi, container, 2)
    r = request_cancel(fapi, order["id"])
    assert r.status_code == 201 and r.json()["status"] == "pending"
    request_id = r.json()["id"]
    assert_error(request_cancel(fapi, order["id"]), 409, "cancellation_already_requested")
    pending = fapi.get("/cancellation-requests", params={"status": "pending", **at(r)}).json()
    pending = pending["items"]
    assert request_id in [i["id"] for i in pending]
    assert [i for i in pending if i["id"] == request_id][0]["order_id"] == order["id"]
    r = fapi.post(f"/cancellation-requests/{request_id}/approve", json={"note": "ok"})
    doc = carried_out(fapi, order["id"], r)
    assert doc["cancellation_request"]["status"] == "completed"
    assert doc["status"] == "cancelled" and doc["payment_status"] == "voided"
    approved = at(stream_head(fapi, order["id"]))
    assert fapi.get(f"/inventory/{skus[0]}", params=approved).json()["available"] == 10
    assert_error(fapi.post(f"/cancellation-requests/{request_id}/approve"), 409)
    assert_error(fapi.post(f"/cancellation-requests/{request_id}/reject"), 409)
    assert_error(request_cancel(fapi, order["id"]), 409, "order_cancelled")
    timeline = fapi.get(f"/orders/{order['id']}/timeline", params=approved).json()["items"]
    assert "cancellation_reviewed" in [e["type"] for e in timeline]
    # a plan made before the approval is cancelled; none is made after it
    time.sleep(0.3)
    head = fapi.get("/events", params={"limit": 1}).json()["head"]
    items = fapi.get(f"/orders/{order['id']}/fulfillment-plans", params=at(head)).json()["items"]
    assert all(p["status"] == "cancelled" for p in items)


def test_a_rejection_changes_nothing_else(fapi, container):
    _wh, skus, order = confirmed(fapi, container, 1)
    request_id = request_cancel(fapi, order["id"]).json()["id"]
    r = fapi.post(f"/cancellation-requests/{request_id}/reject", json={"note": "too late"})
    assert r.json()["status"] == "rejected"
    doc = detail(fapi, order["id"], r.json()["position"])
    assert doc["status"] == "confirmed"
    assert fapi.get(f"/inventory/{skus[0]}", params=at(r)).json()["reserved"] == 1
    assert request_cancel(fapi, order["id"]).status_code == 201  # a new one may be opened


def test_s9_a_delivered_order_cannot_be_cancelled_use_a_return(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 1)
    shipment = dispatch(fapi, order["id"], wh, order["lines"][0]["line_id"], 1)
    deliver(fapi, shipment["id"])
    assert_error(request_cancel(fapi, order["id"]), 409, "use_a_return")
    assert_error(fapi.post(f"/cancellation-requests/{uuid4()}/approve"), 404)


def test_s25_a_partly_shipped_order_cancels_only_the_unshipped_rest(fapi, container):
    wh = location(fapi, 1)
    a = stocked_sku(container, fapi, (wh, 5))
    b = stocked_sku(container, fapi, (wh, 5))
    order = settled(fapi, place_lines(fapi, [(a, 2), (b, 1)]))
    la, _lb = (x["line_id"] for x in order["lines"])
    shipment = dispatch(fapi, order["id"], wh, la, 2)
    request_id = request_cancel(fapi, order["id"]).json()["id"]
    r = fapi.post(f"/cancellation-requests/{request_id}/approve")
    doc = carried_out(fapi, order["id"], r)
    assert doc["status"] == "shipped"
    assert [x["cancelled"] for x in doc["lines"]] == [0, 1]
    done = at(stream_head(fapi, order["id"]))
    inv_a, inv_b = (fapi.get(f"/inventory/{s}", params=done).json() for s in (a, b))
    assert (inv_a["on_hand"], inv_a["reserved"]) == (3, 0)
    assert (inv_b["on_hand"], inv_b["reserved"]) == (5, 0)
    ledger = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/payments").json(), lambda x: x["voids"]
    )
    assert ledger["captured"] == "20.00" and ledger["voids"][0]["amount"] == "10.00"
    deliver(fapi, shipment["id"])
    doc = eventually(lambda: detail(fapi, order["id"]), lambda d: d["status"] == "delivered")


# ---- returns and refunds ----------------------------------------------------------------------


def delivered_order(api, container, quantity: int = 2):  # noqa: ANN001
    wh, skus, order = confirmed(api, container, quantity)
    shipment = dispatch(api, order["id"], wh, order["lines"][0]["line_id"], quantity)
    deliver(api, shipment["id"])
    return wh, skus, order


def test_a_return_of_delivered_units_restocks_and_refunds(fapi, container):
    wh, skus, order = delivered_order(fapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    r = fapi.post(
        f"/orders/{order['id']}/returns",
        json={"lines": [{"line_id": line_id, "quantity": 3}], "reason": "too big"},
    )
    assert_error(r, 422, "return_exceeds_delivered")
    r = fapi.post(
        f"/orders/{order['id']}/returns",
        json={"lines": [{"line_id": line_id, "quantity": 1}], "reason": "too big"},
    )
    assert r.status_code == 201 and r.json()["status"] == "requested"
    return_id = r.json()["id"]
    done = receive(fapi, return_id, restock=True, location=wh)
    assert (done["status"], done["refund"], done["refunded"]) == ("refunded", "succeeded", "10.00")
    seen = at(done["position"])
    assert fapi.get(f"/inventory/{skus[0]}", params=seen).json()["on_hand"] == 9
    doc = detail(fapi, order["id"], done["position"])
    assert doc["lines"][0]["returned"] == 1
    assert doc["fulfillment_status"] == "partially_returned"
    doc = eventually(lambda: detail(fapi, order["id"]), lambda d: d["refunds"])
    assert doc["payment_status"] == "partially_refunded"
    assert doc["refunds"][0]["amount"] == "10.00"
    r = fapi.post(f"/returns/{return_id}/receive", json={"restock": True, "location": wh})
    assert r.status_code == 200 and r.json()["status"] == "refunded", r.text  # nothing to do
    assert r.json()["version"] == done["version"]
    assert fapi.get(f"/inventory/{skus[0]}", params=at(r)).json()["on_hand"] == 9  # once


def test_returns_only_for_delivered_units_and_rejection_frees_them(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 1)
    line_id = order["lines"][0]["line_id"]
    body = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "changed mind"}
    assert_error(fapi.post(f"/orders/{order['id']}/returns", json=body), 422)
    shipment = dispatch(fapi, order["id"], wh, line_id, 1)
    deliver(fapi, shipment["id"])
    return_id = fapi.post(f"/orders/{order['id']}/returns", json=body).json()["id"]
    r = fapi.post(f"/returns/{return_id}/reject", json={"note": "worn"})
    assert r.json()["status"] == "rejected"
    assert_error(fapi.post(f"/returns/{return_id}/receive", json={"restock": False}), 409)
    assert fapi.post(f"/orders/{order['id']}/returns", json=body).status_code == 201


def test_s28_concurrent_refunds_never_exceed_what_was_captured(fapi, container):
    wh = location(fapi, 1)
    sku = stocked_sku(container, fapi, (wh, 20))
    order = settled(fapi, place_lines(fapi, [(sku, 10)]))  # 10 × 10.00 = 100.00
    dispatch(fapi, order["id"], wh, order["lines"][0]["line_id"], 10)

    def refund(amount: str):
        return fapi.post(
            f"/orders/{order['id']}/refunds",
            json={"amount": {"amount": amount, "currency": "USD"}, "reason": "damaged"},
        )

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(refund, ["60.00", "50.00"]))
    codes = sorted(r.status_code for r in answers)
    assert codes == [202, 409]
    [accepted] = [r.json() for r in answers if r.status_code == 202]
    assert accepted["status"] == "pending"
    ledger = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/payments").json(),
        lambda x: x["refunds"] and x["refunds"][0]["status"] != "pending",
    )
    assert ledger["refunds"][0]["status"] == "succeeded"
    assert ledger["captured"] == "100.00"
    assert ledger["refunded"] in ("60.00", "50.00")
    assert_error(refund("60.01"), 409, "refund_exceeds_captured")
    assert_error(refund("-1"), 422)


def test_a_refund_repeated_under_one_key_is_written_once(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 1)
    dispatch(fapi, order["id"], wh, order["lines"][0]["line_id"], 1)
    body = {"amount": {"amount": "5.00", "currency": "USD"}, "reason": "damaged"}
    headers = {"Idempotency-Key": f"refund-{uuid4()}"}
    with ThreadPoolExecutor(5) as pool:
        answers = list(
            pool.map(
                lambda _: fapi.post(f"/orders/{order['id']}/refunds", json=body, headers=headers),
                range(5),
            )
        )
    assert {r.json()["id"] for r in answers if r.status_code == 202}
    assert len({r.json()["id"] for r in answers if r.status_code == 202}) == 1
    last = max(r.json()["position"] for r in answers if r.status_code == 202)
    ledger = fapi.get(f"/orders/{order['id']}/payments", params=at(last)).json()
    assert [(x["amount"], x["status"]) for x in ledger["refunds"]] in (
        [("5.00", "pending")],
        [("5.00", "succeeded")],
    )  # shown at once, pending until the returns manager has asked the gateway
    ledger = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/payments").json(),
        lambda x: x["refunded"] == "5.00",
    )
    assert len(ledger["refunds"]) == 1 and ledger["refunds"][0]["status"] == "succeeded"


# ---- line edits ------------------------------------------------------------------------------


def edited(api, order_id: str, r, status: str = "applied") -> dict:  # noqa: ANN001
    """Follow a line edit's answer (``202``, ``pending``) on the order until the line edit
    manager has settled it; the order then."""
    assert r.status_code == 202, r.text
    ack = r.json()
    assert ack["status"] == "pending" and ack["id"] == order_id, ack
    doc = eventually(
        lambda: detail(api, order_id),
        lambda d: (
            (d.get("last_edit") or {}).get("edit_id") == ack["edit_id"]
            and d["last_edit"]["status"] != "pending"
        ),
    )
    assert doc["last_edit"]["status"] == status, doc["last_edit"]
    return doc


def test_an_added_line_takes_its_effective_price_as_a_placement_would(fapi, container):
    wh, _skus, order = confirmed(fapi, container, 2)
    extra = stocked_sku(container, fapi, (wh, 5))
    tiers = [{"min": 1, "max": None, "price": {"amount": "8.00", "currency": "USD"}}]
    rule = fapi.post(
        "/pricing-rules",
        json={"name": "Cheap", "type": "tiered", "scope": {"skus": [extra]},
              "config": {"tiers": tiers}, "priority": 1},
    )  # fmt: skip
    assert rule.status_code == 201, rule.text
    r = fapi.post(
        f"/orders/{order['id']}/lines", json={"sku": extra, "quantity": 3, "reason": "asked"}
    )
    doc = edited(fapi, order["id"], r)
    added = next(x for x in doc["lines"] if x["sku"] == extra)
    assert added["unit_price"] == {"amount": "8.00", "currency": "USD"}
    assert doc["total"]["amount"] == "44.00"  # 2 × 10.00 + 3 × 8.00


def test_adding_and_changing_lines_re_reserves_and_adjusts_the_authorization(fapi, container):
    wh, skus, order = confirmed(fapi, container, 2)
    extra = stocked_sku(container, fapi, (wh, 5))
    r = fapi.post(
        f"/orders/{order['id']}/lines", json={"sku": extra, "quantity": 3, "reason": "asked"}
    )
    doc = edited(fapi, order["id"], r)
    assert [x["line_id"] for x in doc["lines"]][1] == r.json()["line_id"]
    assert [x["quantity"] for x in doc["lines"]] == [2, 3]
    assert [x["reserved"] for x in doc["lines"]] == [2, 3]
    assert doc["total"]["amount"] == "50.00"
    seen = at(stream_head(fapi, order["id"]))
    assert fapi.get(f"/inventory/{extra}", params=seen).json()["reserved"] == 3
    ledger = fapi.get(f"/orders/{order['id']}/payments", params=seen).json()
    assert ledger["authorized"] == "50.00"
    assert ledger["payment_status"] == "authorized"
    line_id = order["lines"][0]["line_id"]
    r = fapi.patch(
        f"/orders/{order['id']}/lines/{line_id}", json={"quantity": 1, "reason": "fewer"}
    )
    doc = edited(fapi, order["id"], r)
    assert doc["lines"][0]["quantity"] == 1 and doc["total"]["amount"] == "40.00"
    seen = at(stream_head(fapi, order["id"]))
    inv = fapi.get(f"/inventory/{skus[0]}", params=seen).json()
    assert (inv["reserved"], inv["available"]) == (1, 9)
    mods = fapi.get(f"/orders/{order['id']}/modifications", params=seen).json()["items"]
    assert [m["modification_type"] for m in mods][-2:] == ["item_added", "quantity_changed"]
    [plan] = eventually(
        lambda: fapi.get(f"/orders/{order['id']}/fulfillment-plans").json()["items"],
        lambda items: len(items) == 1 and sorted(
            (x["sku"], x["allocated"]) for x in items[0]["lines"]
        ) == sorted([(skus[0], 1), (extra, 3)]),
    )  # fmt: skip
    picks = eventually(
        lambda: fapi.get(f"/locations/{wh}/pick-list").json()["items"],
        lambda items: (
            sorted((x["sku"], x["allocated"]) for x in items) == sorted([(skus[0], 1), (extra, 3)])
        ),
    )
    assert len(picks) == 2


def test_an_edit_that_cannot_be_reserved_is_rejected_with_its_reason(fapi, container):
    _wh, skus, order = confirmed(fapi, container, 2, stock=3)
    line_id = order["lines"][0]["line_id"]
    r = fapi.patch(f"/orders/{order['id']}/lines/{line_id}", json={"quantity": 9, "reason": "more"})
    doc = edited(fapi, order["id"], r, status="rejected")
    assert doc["last_edit"]["rejection_reason"] == "insufficient_stock"
    assert doc["lines"][0]["quantity"] == 2 and doc["total"] == order["total"]
    seen = at(stream_head(fapi, order["id"]))
    assert fapi.get(f"/inventory/{skus[0]}", params=seen).json()["reserved"] == 2
    assert_error(
        fapi.delete(f"/orders/{order['id']}/lines/{line_id}", params={"reason": "x"}),
        409,
        "last_line",
    )
    assert_error(
        fapi.patch(f"/orders/{order['id']}/lines/nope", json={"quantity": 1, "reason": "x"}),
        404,
        "line_not_found",
    )
    assert_error(
        fapi.patch(f"/orders/{order['id']}/lines/{line_id}", json={"quantity": 0, "reason": "x"}),
        422,
        "invalid_quantity",
    )
    before = fapi.get(f"/orders/{order['id']}/state").json()["version"]
    assert_error(
        fapi.post(
            f"/orders/{order['id']}/lines", json={"sku": "NO-SUCH", "quantity": 1, "reason": "x"}
        ),  # fmt: skip
        422,
    )
    assert fapi.get(f"/orders/{order['id']}/state").json()["version"] == before


def test_a_second_edit_while_one_is_pending_is_refused_or_taken_once_settled(fapi, container):
    _wh, _skus, order = confirmed(fapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    path = f"/orders/{order['id']}/lines/{line_id}"
    first = fapi.patch(path, json={"quantity": 3, "reason": "more"})
    assert first.status_code == 202, first.text
    second = fapi.patch(path, json={"quantity": 4, "reason": "even more"})
    if second.status_code == 409:  # the first was still pending
        assert second.json()["error"]["code"] == "edit_in_progress"
        edited(fapi, order["id"], first)
    else:  # the manager had already applied the first
        edited(fapi, order["id"], second)


def test_removing_a_line_releases_it_and_lines_freeze_once_shipping_starts(fapi, container):
    wh, skus, order = confirmed(fapi, container, 1, 2)
    l1, l2 = (x["line_id"] for x in order["lines"])
    r = fapi.delete(f"/orders/{order['id']}/lines/{l2}", params={"reason": "out of fashion"})
    doc = edited(fapi, order["id"], r)
    assert [x["line_id"] for x in doc["lines"]] == [l1]
    seen = at(stream_head(fapi, order["id"]))
    assert fapi.get(f"/inventory/{skus[1]}", params=seen).json()["reserved"] == 0
    dispatch(fapi, order["id"], wh, l1, 1)
    r = fapi.patch(f"/orders/{order['id']}/lines/{l1}", json={"quantity": 2, "reason": "x"})
    assert_error(r, 409, "order_already_fulfilling")
