"""Saga events carry the saga's time, over HTTP: an order placed, tagged, and only then
confirmed by the placement saga has its events in time order, and the order as of an instant
between the placement and the tag is the order at version 1."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from tests.e2e.test_order_saga import location, place, stocked_sku


def test_a_tag_added_before_the_saga_ran_stays_before_the_confirmation(api, container):
    # given an order placed (the server runs no process manager) and then tagged
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 3))
    order_id = UUID(place(api, sku, 1)["id"])
    r = api.post(f"/orders/{order_id}/tags", json={"tag": "vip"})
    assert r.status_code == 200, r.text
    # when the placement saga decides the order afterwards
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)
    saga.handle(Trigger("event-time-e2e", container.store.load_with_positions(order_id)[0]))
    # then its confirmation comes after the tag, in the stream's time as in its order
    events = api.get(f"/streams/{order_id}/events").json()["items"]
    assert [e["type"] for e in events] == [
        "order.OrderPlaced",
        "order.TagAdded",
        "order.OrderConfirmed",
    ]
    placed, tagged, confirmed = (datetime.fromisoformat(e["occurred_at"]) for e in events)
    assert placed < tagged <= confirmed
    # and the order as of an instant between the placement and the tag is version 1
    between = placed + (tagged - placed) / 2
    r = api.get(f"/orders/{order_id}/state", params={"as_of": between.isoformat()})
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["status"]) == (1, "pending")
    # as of the tag's time, version 2; as of the confirmation's, version 3
    for instant, version in ((tagged, 2), (confirmed, 3)):
        r = api.get(f"/orders/{order_id}/state", params={"as_of": instant.isoformat()})
        assert r.json()["version"] == version, (instant, r.json())
