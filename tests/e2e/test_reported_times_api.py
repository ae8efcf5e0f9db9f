"""Business times over HTTP, against a server running its process managers: a carrier's event
or a delivery attempt dated before the order was placed or beyond the clock skew is refused
(``422 occurred_at_out_of_range``, nothing written); a delivery keeps the carrier's time, which
the views show and the 30-day return window counts from; past state refuses a version the
stream never reached (``404``), a version below 1 and an instant without its offset (``422``);
the log shows when each event was written (``recorded_at``) beside its business time."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.export import export_events
from commands.context import CommandContext
from domain.errors import InvalidCommand
from domain.reported_time import CLOCK_SKEW
from domain.returns.commands import RequestReturn, ReturnLine
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    at,
    confirmed,
    detail,
    dispatch,
    ship,
    stream_events,
    written,
)
from tests.factories import send


@pytest.fixture(scope="module")
def tapi(database_url, container):
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as client:
            yield client


def placed_at(api, order_id: str) -> datetime:  # noqa: ANN001
    """The order's placement, as its stream records it (the lower bound of reported times)."""
    first = stream_events(api, order_id)[0]
    assert first["type"] == "order.OrderPlaced"
    return datetime.fromisoformat(first["data"]["placed_at"])


def versions(api, *stream_ids: str) -> list[int]:  # noqa: ANN001
    return [stream_events(api, s)[-1]["version"] for s in stream_ids]


def test_carrier_times_before_the_order_or_beyond_the_skew_are_refused_and_write_nothing(
    tapi, container
):
    wh, _skus, order = confirmed(tapi, container, 1)
    line_id = order["lines"][0]["line_id"]
    r = ship(tapi, order["id"], wh, line_id, 1)
    assert r.status_code == 201, r.text
    shipment_id = r.json()["id"]
    placed = placed_at(tapi, order["id"])
    before = versions(tapi, order["id"], shipment_id)
    too_early = (placed - timedelta(seconds=1)).isoformat()
    too_late = (datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=1)).isoformat()
    for when in (too_early, too_late, "1999-12-31T23:59:59Z"):
        for status in ("picked_up", "delivered", "label_created"):
            body = {"status": status, "occurred_at": when}
            err = assert_error(
                tapi.post(f"/shipments/{shipment_id}/events", json=body),
                422,
                "occurred_at_out_of_range",
            )
            assert err["details"]["field"] == "occurred_at"
    assert versions(tapi, order["id"], shipment_id) == before

    # inside the range it is the time recorded, on the shipment and on the order's copy
    when = placed + timedelta(milliseconds=1)
    r = tapi.post(
        f"/shipments/{shipment_id}/events",
        json={"status": "picked_up", "occurred_at": when.isoformat()},
    )
    assert r.status_code == 201, r.text
    dispatched = written(tapi, shipment_id, "shipment.ShipmentDispatched")
    assert datetime.fromisoformat(dispatched["data"]["shipped_at"]) == when
    copy = written(tapi, order["id"], "order.ShipmentTrackingUpdated", shipment_id=shipment_id)
    assert datetime.fromisoformat(copy["data"]["occurred_at"]) == when

    # a delivery attempt's time is checked the same way (the order's stream moves meanwhile:
    # the process manager follows the dispatch, so only the shipment's and its copies count)
    before = versions(tapi, shipment_id)
    for when in (too_early, too_late):
        body = {"outcome": "successful", "occurred_at": when}
        assert_error(
            tapi.post(f"/shipments/{shipment_id}/delivery-attempts", json=body),
            422,
            "occurred_at_out_of_range",
        )
    body = {"outcome": "customer_not_home", "failure_reason": "out", "occurred_at": too_late}
    assert_error(
        tapi.post(f"/shipments/{shipment_id}/delivery-attempts", json=body),
        422,
        "occurred_at_out_of_range",
    )
    assert versions(tapi, shipment_id) == before
    copies = [e["type"] for e in stream_events(tapi, order["id"])]
    assert "order.DeliveryAttemptRecorded" not in copies


def test_a_delivery_keeps_the_carriers_time_and_the_return_window_counts_from_it(tapi, container):
    wh, _skus, order = confirmed(tapi, container, 1)
    line_id = order["lines"][0]["line_id"]
    shipment = dispatch(tapi, order["id"], wh, line_id, 1)
    delivered_at = placed_at(tapi, order["id"]) + timedelta(milliseconds=500)
    time.sleep(2)  # the delivery is recorded well after the carrier says it happened
    r = tapi.post(
        f"/shipments/{shipment['id']}/events",
        json={"status": "delivered", "occurred_at": delivered_at.isoformat()},
    )
    assert r.status_code == 201 and r.json()["status"] == "delivered", r.text
    lines = written(tapi, order["id"], "order.LinesDelivered", shipment_id=shipment["id"])
    assert datetime.fromisoformat(lines["data"]["delivered_at"]) == delivered_at
    assert datetime.fromisoformat(lines["occurred_at"]) >= delivered_at + timedelta(seconds=1.5)

    # the views show the recorded delivery time
    seen = tapi.get(f"/shipments/{shipment['id']}", params=at(lines["position"]))
    assert datetime.fromisoformat(seen.json()["delivered_at"]) == delivered_at, seen.text
    [on_order] = detail(tapi, order["id"], lines["position"])["shipments"]
    assert datetime.fromisoformat(on_order["delivered_at"]) == delivered_at

    # the window counts from it: 30 days and a second after the carrier's time is too late,
    # though it is still inside 30 days of when the delivery was recorded
    order_id = UUID(order["id"])
    request = RequestReturn(
        order_id=order_id, lines=[ReturnLine(line_id=line_id, quantity=1)], reason="late"
    )
    late = CommandContext.new("e2e-admin", now=delivered_at + timedelta(days=30, seconds=1))
    before = container.store.stream_version(order_id)
    with pytest.raises(InvalidCommand) as err:
        send(container, request, late)
    assert err.value.code == "return_window_closed"
    assert datetime.fromisoformat(err.value.details["last_delivered_at"]) == delivered_at
    assert container.store.stream_version(order_id) == before
    in_time = CommandContext.new("e2e-admin", now=delivered_at + timedelta(days=30))
    assert send(container, request, in_time).version == before + 1


def test_past_state_refuses_versions_never_reached_and_instants_without_offset(tapi, container):
    wh, skus, order = confirmed(tapi, container, 1)
    last = stream_events(tapi, order["id"])[-1]["version"]
    assert tapi.get(f"/orders/{order['id']}/state", params={"version": last}).status_code == 200
    product_id = stream_events(tapi, order["id"])[0]["data"]["lines"][0]["product_id"]
    routes = [
        f"/orders/{order['id']}/state",
        f"/products/{product_id}/state",
        f"/inventory/{skus[0]}/state",
        f"/locations/{wh}/state",
    ]
    for route in routes:
        err = assert_error(tapi.get(route, params={"version": 10_000}), 404, "version_not_found")
        assert err["details"]["version"] == 10_000 and err["details"]["last_version"] >= 1
        for bad in (0, -1):
            assert_error(tapi.get(route, params={"version": bad}), 422)
        for naive in ("2026-01-01T00:00:00", "2026-01-01 00:00:00", "2026-01-01"):
            assert_error(tapi.get(route, params={"as_of": naive}), 422)
        r = tapi.get(route, params={"as_of": datetime.now(UTC).isoformat()})
        assert r.status_code == 200, (route, r.text)
    over = tapi.get(f"/orders/{order['id']}/state", params={"version": last + 1})
    assert_error(over, 404, "version_not_found")


def test_each_event_shows_when_it_was_written_beside_its_business_time(tapi, container):
    started = datetime.now(UTC) - timedelta(seconds=1)
    wh, _skus, order = confirmed(tapi, container, 1)
    ended = datetime.now(UTC) + timedelta(seconds=1)
    items = stream_events(tapi, order["id"])
    feed = tapi.get("/events", params={"after": items[0]["position"] - 1, "limit": 5}).json()
    assert feed["items"][0]["position"] == items[0]["position"]
    assert feed["items"][0]["recorded_at"] == items[0]["recorded_at"]
    for item in items:
        recorded = datetime.fromisoformat(item["recorded_at"])
        assert recorded.utcoffset() == timedelta(0)
        assert started <= recorded <= ended
    recorded = [datetime.fromisoformat(i["recorded_at"]) for i in items]
    assert recorded == sorted(recorded)  # written in stream order
    out = io.BytesIO()
    first = items[0]["position"]
    key = Ed25519PrivateKey.generate()
    export_events(container.pool, key, out, from_position=first, to_position=first, now_ms=0)
    [_header, record, _head] = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert record["recorded_at"] == items[0]["recorded_at"]
