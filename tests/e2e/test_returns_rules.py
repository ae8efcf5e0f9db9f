"""Return rules over HTTP against a server running its process managers: CancelReturn
(``POST /returns/{id}/cancel``), returns ≤ delivered, a refund that fails leaves the return
``received`` (to be retried), and the 30-day window (the handler's
clock is the command context's, so the window is checked through the command with a clock
moved forward, against the same database the server writes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands.context import CommandContext
from domain.errors import InvalidCommand
from domain.returns.commands import RequestReturn, ReturnLine
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import at, confirmed, deliver, dispatch, settled_return
from tests.factories import send


@pytest.fixture(scope="module")
def rapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def delivered(api, container, quantity: int = 2, token: str = "tok_visa"):  # noqa: ANN001
    wh, _skus, order = confirmed(api, container, quantity, token=token)
    line_id = order["lines"][0]["line_id"]
    deliver(api, dispatch(api, order["id"], wh, line_id, quantity)["id"])
    return wh, order, line_id


def test_a_requested_return_is_cancelled_and_its_units_may_be_asked_back(rapi, container):
    _wh, order, line_id = delivered(rapi, container, 2)
    body = {"lines": [{"line_id": line_id, "quantity": 2}], "reason": "too big"}
    r = rapi.post(f"/orders/{order['id']}/returns", json=body)
    assert r.status_code == 201, r.text
    return_id = r.json()["id"]
    assert_error(rapi.post(f"/orders/{order['id']}/returns", json=body), 422,
                 "return_exceeds_delivered")  # fmt: skip
    r = rapi.post(f"/returns/{return_id}/cancel", json={"note": "kept it"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    version = r.json()["version"]
    again = rapi.post(f"/returns/{return_id}/cancel")
    assert again.status_code == 200 and again.json()["version"] == version  # nothing written
    assert rapi.get(f"/returns/{return_id}", params=at(r)).json()["status"] == "cancelled"
    assert_error(rapi.post(f"/returns/{return_id}/receive", json={"restock": False}), 409)
    assert_error(rapi.post(f"/returns/{return_id}/reject", json={}), 409)
    r = rapi.post(f"/orders/{order['id']}/returns", json=body)
    assert r.status_code == 201, r.text  # the cancelled return freed its units


def test_a_received_or_unknown_return_cannot_be_cancelled(rapi, container):
    _wh, order, line_id = delivered(rapi, container, 1)
    body = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "broken"}
    return_id = rapi.post(f"/orders/{order['id']}/returns", json=body).json()["id"]
    r = rapi.post(f"/returns/{return_id}/receive", json={"restock": False})
    assert r.status_code == 202 and r.json()["status"] == "received", r.text
    assert_error(rapi.post(f"/returns/{return_id}/cancel"), 409, "illegal_transition")
    done = settled_return(rapi, return_id, r.json()["position"])
    assert done["status"] == "refunded"
    assert_error(rapi.post(f"/returns/{return_id}/cancel"), 409, "illegal_transition")
    assert rapi.get(f"/returns/{return_id}", params=at(done["position"])).json() == {
        k: v for k, v in done.items() if k != "position"
    }
    assert_error(rapi.post(f"/returns/{uuid4()}/cancel"), 404, "return_not_found")


def test_a_return_more_than_30_days_after_delivery_is_refused_and_writes_nothing(rapi, container):
    _wh, order, line_id = delivered(rapi, container, 1)
    order_id = UUID(order["id"])
    store = container.store
    before = store.stream_version(order_id)
    lines = [ReturnLine(line_id=line_id, quantity=1)]
    late = CommandContext.new("e2e-admin", now=datetime.now(UTC) + timedelta(days=31))
    with pytest.raises(InvalidCommand) as err:
        send(container, RequestReturn(order_id=order_id, lines=lines, reason="late"), late)
    assert err.value.code == "return_window_closed"
    assert store.stream_version(order_id) == before
    in_time = CommandContext.new("e2e-admin", now=datetime.now(UTC) + timedelta(days=29))
    done = send(container, RequestReturn(order_id=order_id, lines=lines, reason="ok"), in_time)
    got = rapi.get(f"/returns/{done.extra['id']}", params=at(done.position)).json()
    assert got["status"] == "requested"


def test_a_refund_that_fails_leaves_the_return_received_to_be_retried(rapi, container):
    _wh, order, line_id = delivered(rapi, container, 1, token="tok_refund_fails")
    body = {"lines": [{"line_id": line_id, "quantity": 1}], "reason": "broken"}
    return_id = rapi.post(f"/orders/{order['id']}/returns", json=body).json()["id"]
    r = rapi.post(f"/returns/{return_id}/receive", json={"restock": False})
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["refund"]) == ("received", "pending")
    got = settled_return(rapi, return_id, r.json()["position"])  # the gateway failed
    assert (got["status"], got["refund"], got["refunded"]) == ("received", "failed", "0")
    ledger = rapi.get(
        f"/orders/{order['id']}/payments", params={"min_position": got["position"]}
    ).json()
    assert ledger["refunded"] in ("0", "0.00") and ledger["captured"] not in ("0", "0.00")
    assert [x["status"] for x in ledger["refunds"]] == ["failed"]
    types = [e["type"] for e in rapi.get(f"/streams/{return_id}/events").json()["items"]]
    assert types[-1] == "return.ReturnRefundFailed", types
    # receiving it again retries the refund; the gateway still fails, so it is still received
    again = rapi.post(f"/returns/{return_id}/receive", json={"restock": False})
    assert again.status_code == 202 and again.json()["refund"] == "pending", again.text
    got = settled_return(rapi, return_id, again.json()["position"])
    assert (got["status"], got["refund"]) == ("received", "failed")
    types = [e["type"] for e in rapi.get(f"/streams/{return_id}/events").json()["items"]]
    assert types.count("return.ReturnRefundFailed") == 2
    assert types.count("return.ReturnRefundRetried") == 1
