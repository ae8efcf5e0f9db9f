"""Idempotency-Key on the multi-step POSTs (refunds, shipments, returns and their receipt,
splits, cancellation approval), over HTTP against a server running its process managers.

Same key + same body → the first answer, nothing written again; same key + different body →
422 ``idempotency_key_reused``, nothing written (docs/api.md, "Idempotency-Key")."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.ids import payment_stream
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    at,
    confirmed,
    deliver,
    dispatch,
    eventually,
    location,
    place_lines,
    settled_return,
)
from tests.e2e.test_order_saga import settled, stocked_sku


@pytest.fixture(scope="module")
def iapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid4()}"}


def versions(container, order_id: str) -> tuple[int, int]:
    """The order's and its payment's stream versions: what a repeat must leave alone."""
    store = container.store
    return store.stream_version(UUID(order_id)), store.stream_version(
        payment_stream(UUID(order_id))
    )


def same_answer(first, again) -> None:  # noqa: ANN001
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json()


def test_a_refund_replays_under_its_key_and_refuses_another_body(iapi, container):
    wh, _skus, order = confirmed(iapi, container, 2)
    dispatch(iapi, order["id"], wh, order["lines"][0]["line_id"], 2)
    url = f"/orders/{order['id']}/refunds"
    body = {"amount": {"amount": "5.00", "currency": "USD"}, "reason": "damaged"}
    headers = key()
    first = iapi.post(url, json=body, headers=headers)
    assert first.status_code == 202 and first.json()["status"] == "pending", first.text
    ledger = eventually(  # the returns manager settles it
        lambda: iapi.get(f"/orders/{order['id']}/payments", params=at(first)).json(),
        lambda x: x["refunded"] == "5.00",
    )
    assert [x["status"] for x in ledger["refunds"]] == ["succeeded"]
    before = versions(container, order["id"])
    same_answer(first, iapi.post(url, json=body, headers=headers))
    other = {**body, "amount": {"amount": "7.00", "currency": "USD"}}
    assert_error(iapi.post(url, json=other, headers=headers), 422, "idempotency_key_reused")
    assert versions(container, order["id"]) == before


def test_a_shipment_replays_under_its_key_and_refuses_another_body(iapi, container):
    wh, _skus, order = confirmed(iapi, container, 3)
    line_id = order["lines"][0]["line_id"]
    url = f"/orders/{order['id']}/shipments"
    body = {"location": wh, "lines": [{"line_id": line_id, "quantity": 1}], "carrier": "UPS"}
    headers = key()
    first = iapi.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    before = versions(container, order["id"])
    same_answer(first, iapi.post(url, json=body, headers=headers))
    other = {**body, "lines": [{"line_id": line_id, "quantity": 2}]}
    assert_error(iapi.post(url, json=other, headers=headers), 422, "idempotency_key_reused")
    assert versions(container, order["id"]) == before
    listed = iapi.get(
        f"/orders/{order['id']}/shipments", params={"min_position": first.json()["position"]}
    ).json()["items"]
    assert [s["number"] for s in listed] == [1]


def test_a_return_and_its_receipt_replay_under_their_keys_and_refuse_another_body(iapi, container):
    wh, _skus, order = confirmed(iapi, container, 2)
    line_id = order["lines"][0]["line_id"]
    deliver(iapi, dispatch(iapi, order["id"], wh, line_id, 2)["id"])
    url = f"/orders/{order['id']}/returns"
    body = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "too big"}
    headers = key()
    first = iapi.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    before = versions(container, order["id"])
    same_answer(first, iapi.post(url, json=body, headers=headers))
    other = {**body, "lines": [{"line_id": line_id, "quantity": 2}]}
    assert_error(iapi.post(url, json=other, headers=headers), 422, "idempotency_key_reused")
    assert versions(container, order["id"]) == before

    receive = f"/returns/{first.json()['id']}/receive"
    rkey = key()
    got = iapi.post(receive, json={"restock": False}, headers=rkey)
    assert got.status_code == 202 and got.json()["status"] == "received", got.text
    done = settled_return(iapi, first.json()["id"], got.json()["position"])
    assert done["status"] == "refunded"
    before = versions(container, order["id"])
    same_answer(got, iapi.post(receive, json={"restock": False}, headers=rkey))
    r = iapi.post(receive, json={"restock": True, "location": wh}, headers=rkey)
    assert_error(r, 422, "idempotency_key_reused")
    assert versions(container, order["id"]) == before


def test_a_split_replays_under_its_key_and_refuses_another_body(iapi, container):
    wh1, wh2 = location(iapi, 1), location(iapi, 2)
    a = stocked_sku(container, iapi, (wh1, 5), (wh2, 5))
    b = stocked_sku(container, iapi, (wh1, 5), (wh2, 5))
    order = settled(iapi, place_lines(iapi, [(a, 2), (b, 1)]))
    assert order["status"] == "confirmed", order
    l1, l2 = (x["line_id"] for x in order["lines"])
    url = f"/orders/{order['id']}/splits"
    body = {
        "reason": "multi_warehouse",
        "parts": [
            {"location": wh1, "lines": [{"line_id": l1, "quantity": 2}]},
            {"location": wh2, "lines": [{"line_id": l2, "quantity": 1}]},
        ],
    }
    headers = key()
    first = iapi.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    # (the parent's payment is voided by the fulfillment process meanwhile: order stream only)
    before = container.store.stream_version(UUID(order["id"]))
    same_answer(first, iapi.post(url, json=body, headers=headers))
    other = {**body, "reason": "another reason"}
    assert_error(iapi.post(url, json=other, headers=headers), 422, "idempotency_key_reused")
    assert container.store.stream_version(UUID(order["id"])) == before
    children = iapi.get(
        f"/orders/{order['id']}/children", params={"min_position": first.json()["position"]}
    ).json()["items"]
    assert [c["id"] for c in children] == [c["id"] for c in first.json()["children"]]


def test_a_cancellation_request_and_its_approval_replay_and_refuse_another_body(iapi, container):
    _wh, _skus, order = confirmed(iapi, container, 1)
    url = f"/orders/{order['id']}/cancellation-requests"
    body = {"reason": "customer_request"}
    headers = key()
    first = iapi.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    same_answer(first, iapi.post(url, json=body, headers=headers))
    r = iapi.post(url, json={**body, "detail": "other"}, headers=headers)
    assert_error(r, 422, "idempotency_key_reused")

    approve = f"/cancellation-requests/{first.json()['id']}/approve"
    akey = key()
    done = iapi.post(approve, json={"note": "ok"}, headers=akey)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    before = versions(container, order["id"])
    same_answer(done, iapi.post(approve, json={"note": "ok"}, headers=akey))
    r = iapi.post(approve, json={"note": "another"}, headers=akey)
    assert_error(r, 422, "idempotency_key_reused")
    assert versions(container, order["id"]) == before
