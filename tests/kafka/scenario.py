"""A compact store-wide scenario over HTTP against a server running its process managers:
orders of several aggregates each (order, payment, inventory, plans), confirmed, declined,
split, shipped and captured, delivered, returned and refunded, cancelled by request (void),
a request rejected, tags and notes; and a customer forgotten. Views that join aggregates
(payments into orders) have something to join."""

from __future__ import annotations

from tests.e2e.conftest import client_for, running_server
from tests.e2e.test_fulfillment_api import (
    deliver,
    dispatch,
    location,
    place_lines,
    request_cancel,
    settled_return,
)
from tests.e2e.test_order_saga import settled, stocked_sku


def _where(order: dict) -> dict[str, str]:
    return {a["line_id"]: a["location"] for a in order["allocations"]}


def _ok(r) -> dict:  # noqa: ANN001
    assert r.status_code in (200, 201, 202), r.text
    return r.json()


def run(database_url: str, container) -> tuple[int, int]:  # noqa: ANN001
    """Run the scenario; return the store's head before and after it."""
    start = container.store.head()
    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as api:
            wh1, wh2 = location(api, 1), location(api, 2)
            a = stocked_sku(container, api, (wh1, 30), (wh2, 30))
            b = stocked_sku(container, api, (wh1, 30))

            # shipped in two parcels (two captures), delivered, one unit returned (refund)
            o1 = settled(api, place_lines(api, [(a, 3), (b, 1)]))
            assert o1["status"] == "confirmed", o1
            line_a, line_b = (x["line_id"] for x in o1["lines"])
            where = _where(o1)
            s1 = dispatch(api, o1["id"], where[line_a], line_a, 3)
            s2 = dispatch(api, o1["id"], where[line_b], line_b, 1)
            deliver(api, s1["id"])
            deliver(api, s2["id"])
            ret = _ok(
                api.post(
                    f"/orders/{o1['id']}/returns",
                    json={"lines": [{"line_id": line_a, "quantity": 1}], "reason": "too big"},
                )
            )
            _ok(api.post(f"/returns/{ret['id']}/receive",
                         json={"restock": True, "location": where[line_a]}))  # fmt: skip
            settled_return(api, ret["id"])  # restocked and refunded by the returns manager
            _ok(api.post(f"/orders/{o1['id']}/refunds",
                         json={"amount": {"amount": "1.00", "currency": "USD"},
                               "reason": "damaged"}))  # fmt: skip

            # cancelled on request (void), another request rejected, tags and notes
            o2 = settled(api, place_lines(api, [(a, 2)]))
            req = _ok(request_cancel(api, o2["id"]))
            _ok(api.post(f"/cancellation-requests/{req['id']}/approve", json={"note": "ok"}))
            o3 = settled(api, place_lines(api, [(b, 1), (a, 1)]))
            req = _ok(request_cancel(api, o3["id"]))
            _ok(api.post(f"/cancellation-requests/{req['id']}/reject", json={"note": "no"}))
            _ok(api.post(f"/orders/{o3['id']}/tags", json={"tag": "VIP"}))
            _ok(api.post(f"/orders/{o3['id']}/notes", json={"text": "call first"}))

            # a declined card, a slow gateway, an order split across two locations
            settled(api, place_lines(api, [(a, 1)], token="tok_declined"))
            settled(api, place_lines(api, [(b, 1)], token="tok_slow"))
            o4 = settled(api, place_lines(api, [(a, 2), (b, 1)]))
            l1, l2 = (x["line_id"] for x in o4["lines"])
            _ok(
                api.post(
                    f"/orders/{o4['id']}/splits",
                    json={
                        "reason": "multi_warehouse",
                        "parts": [
                            {"location": wh1, "lines": [{"line_id": l1, "quantity": 2}]},
                            {"location": wh1, "lines": [{"line_id": l2, "quantity": 1}]},
                        ],
                    },
                )
            )
            # the customer of the cancelled order is forgotten
            _ok(api.post(f"/customers/{o2['customer_id']}/forget"))
            container.runner.catch_up(timeout_s=120)
    return start, container.store.head()
