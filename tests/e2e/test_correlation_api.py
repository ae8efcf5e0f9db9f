"""Correlation and causation over HTTP, against a server running its process managers.

Every request has one id, answered as ``X-Request-Id`` (the caller's ``X-Correlation-Id`` when
sent): the correlation id of every event the request writes and of every step a process manager
takes because of it. Causation is the request's id for what the request decides, and for a
manager's step the id of the event that triggered it (``<stream id>@<version>``). Given / when
/ then: a whole order lifecycle (place, the saga's holds, authorization and confirmation, ship,
capture, deliver, return, refunds) and a cancellation are followed event by event in the
store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import httpx
import pytest

from domain.ids import inventory_stream, payment_stream, plan_stream
from eventstore.recorded import RecordedEvent
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    carried_out,
    deliver,
    dispatch,
    edited,
    eventually,
    location,
    receive,
)
from tests.e2e.test_order_saga import ADDRESS, settled, stocked_sku

ROUTE = {"via": "route"}  # a query parameter the fast path of POST /orders leaves to the route
EVENT_ID = re.compile(r"^(?P<stream>[0-9a-f-]{36})@(?P<version>[0-9]+)$")


@dataclass
class Requests:
    """The id of every write request a client sent, as its response named it."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def hook(self, response: httpx.Response) -> None:
        if response.request.method != "GET":
            path = response.request.url.path.removeprefix("/api/v1")
            self.ids.setdefault(path, []).append(response.headers["X-Request-Id"])

    def of(self, path: str) -> str:
        """The id of the one request sent to ``path``."""
        [rid] = self.ids[path]
        return rid

    def all(self) -> set[str]:
        return {rid for rids in self.ids.values() for rid in rids}


@pytest.fixture(scope="module")
def base_url(database_url, container) -> Iterator[str]:
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        yield base


@pytest.fixture
def traced(base_url) -> Iterator[tuple[httpx.Client, Requests]]:
    """An admin's client on the server with process managers, and the ids of its writes."""
    requests = Requests()
    with client_for(base_url, timeout=60) as client:
        client.event_hooks["response"].append(requests.hook)
        yield client, requests


def order_body(sku: str, quantity: int) -> dict:
    return {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }


def events_of(container, *streams: UUID) -> list[RecordedEvent]:
    """Every event of ``streams``, in log order, read from the store."""
    found = [e for s in streams for e in container.store.load_with_positions(s)]
    return sorted(found, key=lambda e: e.position)


def assert_causes_are_known(events: list[RecordedEvent], request_ids: set[str]) -> None:
    """Each event is correlated to one of ``request_ids``; its causation is that request
    (then equal to its correlation) or an earlier event of ``events`` with the same
    correlation."""
    by_id = {f"{e.stream_id}@{e.version}": e for e in events}
    for e in events:
        what = (e.type, e.position, e.meta)
        assert e.meta.correlation_id in request_ids, what
        if EVENT_ID.match(e.meta.causation_id):
            cause = by_id.get(e.meta.causation_id)
            assert cause is not None, what
            assert cause.position < e.position, what
            assert cause.meta.correlation_id == e.meta.correlation_id, (what, cause.meta)
        else:
            assert e.meta.causation_id == e.meta.correlation_id, what


def test_a_whole_order_lifecycle_keeps_each_requests_correlation_id(traced, container):
    api, requests = traced
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 10))
    # Given an order placed with the caller's correlation id
    checkout = f"checkout-{uuid4().hex}"
    key = {"Idempotency-Key": f"corr-{uuid4().hex}"}
    body = order_body(sku, 2)
    r = api.post("/orders", json=body, headers={"X-Correlation-Id": checkout, **key})
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == checkout
    order_id = r.json()["id"]
    order = settled(api, order_id)
    assert order["status"] == "confirmed", order
    line_id = order["lines"][0]["line_id"]
    # when it is shipped, captured, delivered, partly returned and refunded, request by request
    shipment_id = dispatch(api, order_id, wh, line_id, 2)["id"]
    deliver(api, shipment_id)
    r = api.post(
        f"/orders/{order_id}/returns",
        json={"lines": [{"line_id": line_id, "quantity": 1}], "reason": "too big"},
    )
    assert r.status_code == 201, r.text
    return_id = r.json()["id"]
    assert receive(api, return_id, restock=True, location=wh)["refund"] == "succeeded"
    r = api.post(
        f"/orders/{order_id}/refunds",
        json={"amount": {"amount": "3.00", "currency": "USD"}, "reason": "damaged"},
    )
    assert r.status_code == 202, r.text
    eventually(
        lambda: api.get(f"/orders/{order_id}/payments").json()["refunded"],
        lambda refunded: refunded == "13.00",
    )
    oid = UUID(order_id)
    streams = (oid, payment_stream(oid), UUID(shipment_id), UUID(return_id),
               plan_stream(oid, wh), inventory_stream(sku))  # fmt: skip
    events = events_of(container, *streams)
    # then every event of the order, its payment, plan, shipment, return and stock carries
    # the id of the request that started its step, and names a cause that exists
    assert_causes_are_known(events, requests.all())
    rid = {
        "place": checkout,
        "ship": requests.of(f"/orders/{order_id}/shipments"),
        "pick": requests.of(f"/shipments/{shipment_id}/events"),
        "deliver": requests.of(f"/shipments/{shipment_id}/delivery-attempts"),
        "return": requests.of(f"/orders/{order_id}/returns"),
        "receive": requests.of(f"/returns/{return_id}/receive"),
        "refund": requests.of(f"/orders/{order_id}/refunds"),
    }
    assert len(set(rid.values())) == len(rid)
    by_step: dict[str, set[str]] = {}
    for e in events:
        for step, value in rid.items():
            if e.meta.correlation_id == value:
                by_step.setdefault(step, set()).add(e.type)
    expected = {
        "place": {"order.OrderPlaced", "order.OrderConfirmed", "payment.PaymentAuthorized"},
        "pick": {"order.LinesShipped", "payment.PaymentCaptured"},
        "deliver": {"order.LinesDelivered"},
        "receive": {"order.LinesReturned", "payment.RefundRequested", "payment.RefundSucceeded"},
        "refund": {"payment.RefundRequested", "payment.RefundSucceeded"},
    }
    for step, types in expected.items():
        assert types <= by_step.get(step, set()), (step, by_step)
    assert by_step["ship"] and by_step["return"], by_step
    # the saga's holds and plans, made for the placing request, carry its id too
    placed = [e for e in events if e.meta.correlation_id == checkout]
    assert {e.stream_id for e in placed} >= {oid, payment_stream(oid), inventory_stream(sku),
                                             plan_stream(oid, wh)}  # fmt: skip
    assert all(e.meta.actor.startswith("process:") for e in placed if e.type != "order.OrderPlaced")
    # and the payment events name their order
    money = [e for e in events if e.type in ("payment.PaymentCaptured", "payment.RefundSucceeded")]
    assert len(money) == 3 and {e.data["order_id"] for e in money} == {order_id}
    # when the placing request is sent again under its key, with another correlation id,
    # through the fast path and through the route
    head = container.store.head()
    for params in ({}, ROUTE):
        again = api.post(
            "/orders", json=body, params=params, headers={"X-Correlation-Id": "retry-1", **key}
        )
        # then it answers what the first did, and no event carries the repeat's id
        assert again.status_code == 201 and again.json()["id"] == order_id
        assert again.headers["X-Request-Id"] == "retry-1"
    later = container.store.read_all(after=head, limit=10_000)
    assert not [e for e in later if e.meta.correlation_id == "retry-1"]
    assert [e.version for e in container.store.load(oid)] == [e.version for e in events
                                                              if e.stream_id == oid]  # fmt: skip


def test_a_cancellation_is_carried_out_under_the_approving_requests_id(traced, container):
    api, requests = traced
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 5))
    # Given a confirmed order placed without a correlation id of the caller's
    r = api.post("/orders", json=order_body(sku, 1))
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    placing = r.headers["X-Request-Id"]
    assert settled(api, order_id)["status"] == "confirmed"
    # when a cancellation is requested by one request and approved by another
    r = api.post(f"/orders/{order_id}/cancellation-requests", json={"reason": "customer_request"})
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    approved = api.post(f"/cancellation-requests/{request_id}/approve", json={})
    approving = approved.headers["X-Request-Id"]
    assert carried_out(api, order_id, approved)["status"] == "cancelled"
    oid = UUID(order_id)
    events = events_of(container, oid, payment_stream(oid), inventory_stream(sku),
                       plan_stream(oid, wh))  # fmt: skip
    # then what the approval set off (release, void, cancel) carries the approval's id
    assert_causes_are_known(events, requests.all())
    of = {e.type: e.meta.correlation_id for e in events}
    assert of["order.OrderPlaced"] == of["order.OrderConfirmed"] == placing
    assert of["payment.AuthorizationVoided"] == of["order.OrderCancelled"] == approving
    assert of["order.CancellationCompleted"] == approving


def test_a_line_edit_is_carried_out_under_the_editing_requests_id(traced, container):
    api, requests = traced
    wh = location(api, 1)
    first, extra = stocked_sku(container, api, (wh, 5)), stocked_sku(container, api, (wh, 5))
    # Given a confirmed order
    r = api.post("/orders", json=order_body(first, 1))
    order_id = r.json()["id"]
    assert settled(api, order_id)["status"] == "confirmed"
    # when a line is added, under the caller's correlation id
    r = api.post(
        f"/orders/{order_id}/lines",
        json={"sku": extra, "quantity": 2, "reason": "asked"},
        headers={"X-Correlation-Id": "edit-1"},
    )
    edited(api, order_id, r)
    oid = UUID(order_id)
    events = events_of(container, oid, payment_stream(oid), inventory_stream(extra),
                       plan_stream(oid, wh))  # fmt: skip
    # then the request, the new hold, the raised authorization and the revision carry its id
    assert_causes_are_known(events, requests.all())
    of = {e.type: e.meta.correlation_id for e in events}
    for what in ("order.LineEditRequested", "inventory.StockReserved",
                 "payment.AuthorizationAdjusted", "order.LinesRevised"):  # fmt: skip
        assert of[what] == "edit-1", (what, of)


def _placed(container, r: httpx.Response):  # noqa: ANN001, ANN202
    """The order's first event: its placement (the saga may have decided after it already)."""
    placed = container.store.load(UUID(r.json()["id"]))[0]
    assert placed.name == "OrderPlaced", placed.name
    return placed


def test_the_callers_correlation_id_is_kept_through_the_fast_path_and_the_route(api, container):
    sku = stocked_sku(container, api)
    for params in ({}, ROUTE):
        # Given a caller's correlation id; when an order is placed with it (both ways)
        corr = f"client:{uuid4().hex}"
        r = api.post(
            "/orders", json=order_body(sku, 1), params=params, headers={"X-Correlation-Id": corr}
        )
        assert r.status_code == 201, r.text
        # then the response and the event say the same id
        assert r.headers["X-Request-Id"] == corr
        placed = _placed(container, r)
        assert (placed.meta.correlation_id, placed.meta.causation_id) == (corr, corr)
        # and without one, the event carries the response's X-Request-Id
        r = api.post("/orders", json=order_body(sku, 1), params=params)
        placed = _placed(container, r)
        assert placed.meta.correlation_id == placed.meta.causation_id == r.headers["X-Request-Id"]


@pytest.mark.parametrize("value", ["x" * 129, "two words", "caf\u00e9".encode("latin-1"), ""])
def test_an_invalid_correlation_id_is_422_and_writes_nothing(api, container, value):
    sku = stocked_sku(container, api)
    before = container.store.head()
    bad = {"X-Correlation-Id": value}
    for params in ({}, ROUTE):
        r = api.post("/orders", json=order_body(sku, 1), params=params, headers=bad)
        error = assert_error(r, 422, "invalid_correlation_id")
        assert error["details"][0]["field"] == "X-Correlation-Id"
    r = api.post(f"/inventory/{sku}/receipts", json={"location": "X", "quantity": 1}, headers=bad)
    assert_error(r, 422, "invalid_correlation_id")
    assert_error(api.get(f"/orders/{uuid4()}", headers=bad), 422, "invalid_correlation_id")
    # nothing written by these requests (the server's managers may still be finishing earlier
    # tests' work, so the head itself may move): no order placed, no stock of this SKU moved
    since = container.store.read_all(after=before, limit=10_000)
    assert [e.type for e in since if e.type == "order.OrderPlaced"] == []
    assert [e.type for e in since if sku in str(e.data)] == []


def test_a_repeat_under_an_idempotency_key_writes_nothing_under_its_own_id(api, container):
    sku = stocked_sku(container, api)
    key = {"Idempotency-Key": f"rcv-{uuid4().hex}"}
    body = {"location": "WH-CORR", "quantity": 3}
    # Given a receipt under a key and a correlation id
    api.post("/locations", json={"code": "WH-CORR", "name": "c", "type": "warehouse",
                                 "priority": 1})  # fmt: skip
    first = api.post(
        f"/inventory/{sku}/receipts", json=body, headers={"X-Correlation-Id": "first", **key}
    )
    assert first.status_code in (200, 201), first.text
    head = container.store.head()
    # when it is repeated under another correlation id
    again = api.post(
        f"/inventory/{sku}/receipts", json=body, headers={"X-Correlation-Id": "second", **key}
    )
    # then the first answer comes back, nothing is written, and the stock event keeps the first id
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["X-Request-Id"] == "second"
    assert container.store.head() == head
    [received] = [e for e in container.store.load(inventory_stream(sku))
                  if e.meta.correlation_id == "first"]  # fmt: skip
    assert received.data["quantity"] == 3
