"""Pricing over HTTP, on the real program and PostgreSQL: rules created, changed, deactivated
and read (with read-your-writes); bad input answered 422 with its code and nothing written;
an order placed under a rule records the rule and its price on the line, and
``GET /prices/{sku}`` agrees with what the order paid; the views rebuilt equal the live ones,
and a rebuilt order keeps the price it was placed at after the rule changed.

Every rule here is scoped to SKUs of its own: the session's database is shared, and a rule
with an empty scope would price every other test's orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from projections.base import live_schema
from tests.e2e.conftest import assert_error, client_for
from tests.factories import active_product, new_sku
from tests.integration.test_projection_rebuild import snapshot

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "region": "CA",
           "postal_code": "12345", "country": "US"}  # fmt: skip


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def head(api: httpx.Client) -> int:
    return api.get("/events", params={"limit": 1}).json()["head"]


def tiered(sku: str, **over) -> dict:
    body = {
        "name": "Bulk",
        "type": "tiered",
        "scope": {"skus": [sku]},
        "config": {
            "tiers": [
                {"min": 1, "max": 4, "price": usd("18.00")},
                {"min": 5, "max": None, "percent_off": 25},
            ]
        },
        "priority": 10,
    }
    return {**body, **over}


def create(api: httpx.Client, body: dict) -> dict:
    r = api.post("/pricing-rules", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def place(api: httpx.Client, sku: str, quantity: int, address: dict = ADDRESS) -> dict:
    body = {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": address,
        "payment": {"method": "card", "token": "tok_visa"},
    }
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    placed = r.json()
    order = api.get(f"/orders/{placed['id']}", params={"min_position": placed["position"]})
    assert order.status_code == 200, order.text
    return order.json()


def price(api: httpx.Client, sku: str, **params) -> dict:
    r = api.get(f"/prices/{sku}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def sku(container) -> str:
    return active_product(container, price="20.00")[1]


def test_a_rule_is_created_read_changed_and_deactivated(api, sku):
    made = create(api, tiered(sku))
    rule = api.get(f"/pricing-rules/{made['id']}", params={"min_position": made["position"]})
    assert rule.status_code == 200 and rule.headers["ETag"] == '"1"'
    body = rule.json()
    assert (body["type"], body["status"], body["priority"], body["version"]) == (
        "tiered", "active", 10, 1,
    )  # fmt: skip
    assert body["scope"] == {"skus": [sku], "product_ids": [], "category_ids": []}
    assert body["config"]["tiers"][1] == {"min": 5, "percent_off": "25"}

    changed = api.patch(f"/pricing-rules/{made['id']}", json={"priority": 11, "name": "Bulk 2"})
    assert changed.status_code == 200 and changed.json()["version"] == 2, changed.text
    same = api.patch(f"/pricing-rules/{made['id']}", json={"priority": 11})
    assert same.json()["version"] == 2  # nothing new: nothing written

    off = api.post(f"/pricing-rules/{made['id']}/deactivate", json={"reason": "season over"})
    assert off.status_code == 200 and off.json()["version"] == 3, off.text
    again = api.post(f"/pricing-rules/{made['id']}/deactivate")
    assert again.json()["version"] == 3
    after = api.get(f"/pricing-rules/{made['id']}", params={"min_position": off.json()["position"]})
    assert (after.json()["status"], after.json()["name"]) == ("inactive", "Bulk 2")
    assert after.json()["deactivation_reason"] == "season over"
    assert_error(api.patch(f"/pricing-rules/{made['id']}", json={"priority": 1}), 409,
                 "pricing_rule_inactive")  # fmt: skip

    listed = api.get("/pricing-rules", params={"status": "inactive", "limit": 500}).json()
    assert made["id"] in [r["id"] for r in listed["items"]] or listed["next_cursor"]


def test_rules_are_listed_a_page_at_a_time(api, sku):
    ids = [create(api, tiered(sku, priority=p))["id"] for p in (1, 2, 3)]
    seen, cursor, position = [], None, head(api)
    while True:
        params = {"limit": 2, "type": "tiered", "min_position": position}
        page = api.get(
            "/pricing-rules", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += [r["id"] for r in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))


def test_an_unknown_rule_is_404(api):
    unknown = uuid4()
    assert_error(api.get(f"/pricing-rules/{unknown}"), 404, "pricing_rule_not_found")
    assert_error(api.patch(f"/pricing-rules/{unknown}", json={"priority": 1}), 404,
                 "pricing_rule_not_found")  # fmt: skip
    assert_error(api.post(f"/pricing-rules/{unknown}/deactivate"), 404, "pricing_rule_not_found")


BAD = [
    ({"tiers": [{"min": 1, "max": 5, "percent_off": 5}, {"min": 5, "percent_off": 9}]},
     "tiered", "overlapping_tiers"),
    ({"tiers": [{"min": 1, "percent_off": 101}]}, "tiered", "percent_out_of_range"),
    ({"tiers": [{"min": 1, "price": usd("-1.00")}]}, "tiered", "negative_money"),
    ({"tiers": [{"min": 1, "price": usd("1.001")}]}, "tiered", "money_precision"),
    ({"cost": usd("5.00"), "markup_percent": -150}, "cost_plus", "negative_price"),
    ({"tiers": [{"min": 1, "percent_off": 1}]}, "loyalty", "unknown_rule_type"),
    ({"regions": {"usa": {"percent_adjust": 1}}}, "geographic", "invalid_region"),
    ({"percent_off": 5, "schedule": [{"weekday": 9, "from": "01:00", "to": "02:00"}]},
     "time_based", "invalid_schedule"),
    ({"percent_off": 5}, "time_based", "time_window_required"),
    ({"segments": {"vip": {}}}, "segment", "invalid_config"),
]  # fmt: skip


@pytest.mark.parametrize(("config", "rule_type", "code"), BAD, ids=[c for *_, c in BAD])
def test_bad_input_is_422_with_its_code_and_writes_nothing(api, config, rule_type, code):
    before = head(api)
    r = api.post("/pricing-rules", json=tiered("X", type=rule_type, config=config))
    assert_error(r, 422, code)
    assert head(api) == before


def test_a_validity_that_ends_before_it_starts_is_refused_on_create_and_update(api, sku):
    before = head(api)
    window = {"valid_from": "2026-02-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00+00:00"}
    assert_error(api.post("/pricing-rules", json=tiered(sku, **window)), 422, "invalid_validity")
    assert head(api) == before
    made = create(api, tiered(sku, valid_from="2026-02-01T00:00:00Z"))
    r = api.patch(f"/pricing-rules/{made['id']}", json={"valid_to": "2026-01-01T00:00:00Z"})
    assert_error(r, 422, "invalid_validity")
    assert head(api) == made["position"]


def test_malformed_bodies_are_refused(api):
    before = head(api)
    assert_error(api.post("/pricing-rules", json={"name": "x"}), 422, "validation_error")
    no_offset = tiered("X", valid_from="2026-01-01T00:00:00")
    assert_error(api.post("/pricing-rules", json=no_offset), 422, "validation_error")
    assert_error(api.post("/pricing-rules", json=tiered("X", priority=-1)), 422)
    assert head(api) == before


def test_an_order_records_the_rule_and_the_quote_agrees_with_what_it_paid(api, sku):
    made = create(api, tiered(sku))
    order = place(api, sku, 6)
    [line] = order["lines"]
    assert line["unit_price"] == usd("15.00") and line["total"] == usd("90.00")
    assert (line["price_rule_id"], line["price_rule_type"]) == (made["id"], "tiered")
    quoted = price(api, sku, quantity=6, country="US", region="CA")
    assert quoted == {"sku": sku, "base_price": usd("20.00"), "price": line["unit_price"],
                      "rule_id": made["id"], "rule_type": "tiered"}  # fmt: skip

    small = place(api, sku, 2)["lines"][0]
    assert small["unit_price"] == price(api, sku, quantity=2)["price"] == usd("18.00")


def test_without_a_matching_rule_the_line_has_the_catalogs_price_and_no_rule(api, sku):
    [line] = place(api, sku, 1)["lines"]
    assert line["unit_price"] == usd("20.00") and line["price_rule_id"] is None
    assert price(api, sku) == {"sku": sku, "base_price": usd("20.00"), "price": usd("20.00"),
                               "rule_id": None, "rule_type": None}  # fmt: skip


def test_the_highest_priority_wins_and_the_address_picks_the_region(api, sku):
    regions = {"regions": {"US": {"percent_adjust": 10}, "US-CA": {"price": usd("12.00")}}}
    geo = create(api, tiered(sku, type="geographic", config=regions, priority=20))
    create(api, tiered(sku, priority=5))
    [line] = place(api, sku, 1)["lines"]
    assert (line["unit_price"], line["price_rule_id"]) == (usd("12.00"), geo["id"])
    texas = {**ADDRESS, "region": "TX"}
    [line] = place(api, sku, 1, texas)["lines"]
    assert line["unit_price"] == usd("22.00")
    assert price(api, sku, country="US", region="TX")["price"] == usd("22.00")
    assert price(api, sku)["rule_type"] == "tiered"  # no address: the region rule does not hold


def test_a_quote_at_another_instant_follows_the_rules_window(api, sku):
    soon = datetime.now(UTC) + timedelta(days=3)
    window = {"valid_from": soon.isoformat(), "valid_to": (soon + timedelta(days=1)).isoformat()}
    made = create(api, tiered(sku, type="time_based", config={"percent_off": 50}, **window))
    assert price(api, sku)["price"] == usd("20.00")  # now: not yet
    later = price(api, sku, at=(soon + timedelta(hours=1)).isoformat())
    assert (later["price"], later["rule_id"]) == (usd("10.00"), made["id"])
    assert_error(api.get(f"/prices/{sku}", params={"at": "2026-01-01T00:00:00"}), 422)


def test_a_quote_for_an_unknown_or_unsellable_sku(api, container):
    assert_error(api.get(f"/prices/{new_sku()}"), 404, "unknown_sku")
    assert_error(api.get("/prices/has space"), 422)
    assert_error(api.get("/prices/X", params={"quantity": 0}), 422)


def test_who_may_write_and_read_rules(server_url, sku):
    customer_id = str(uuid4())
    with (
        client_for(server_url, "analyst", "an-1") as analyst,
        client_for(server_url, "auditor", "au-1") as auditor,
        client_for(server_url, "merchant", "m-1") as merchant,
        client_for(server_url, "customer", customer_id) as customer,
    ):
        made = create(merchant, tiered(sku))
        seen = {"min_position": made["position"]}
        for reader in (analyst, auditor):
            assert reader.get(f"/pricing-rules/{made['id']}", params=seen).status_code == 200
            assert reader.get(f"/prices/{sku}").status_code == 200
            assert_error(reader.post("/pricing-rules", json=tiered(sku)), 403)
            assert_error(reader.post(f"/pricing-rules/{made['id']}/deactivate"), 403)
        assert_error(customer.post("/pricing-rules", json=tiered(sku)), 403)
        assert_error(customer.get(f"/pricing-rules/{made['id']}"), 403)
        assert (
            customer.get(f"/prices/{sku}", params={"customer_id": customer_id}).status_code == 200
        )


def test_a_rebuilt_order_keeps_its_price_after_the_rule_changed(api, container, sku):
    """The rule's id and price are facts of the order's ``OrderPlaced``: folding it again (a
    rebuild) never asks the rules, which have changed since."""
    made = create(api, tiered(sku))
    order = place(api, sku, 5)
    api.patch(
        f"/pricing-rules/{made['id']}", json={"config": {"tiers": [{"min": 1, "percent_off": 1}]}}
    )
    api.post(f"/pricing-rules/{made['id']}/deactivate").raise_for_status()
    events = api.get(f"/streams/{order['id']}/events").json()["items"]
    [placed_line] = events[0]["data"]["lines"]
    assert placed_line["price_rule_id"] == made["id"] and placed_line["price_rule_type"] == "tiered"
    container.runner.rebuild("order_detail")
    again = api.get(f"/orders/{order['id']}").json()
    assert again["lines"] == order["lines"]
    assert again["lines"][0]["unit_price"] == usd("15.00")


def test_the_pricing_rules_view_rebuilt_equals_the_live_one(api, container, sku):
    made = create(api, tiered(sku))
    api.patch(f"/pricing-rules/{made['id']}", json={"valid_to": "2030-01-01T00:00:00Z"})
    api.post(f"/pricing-rules/{made['id']}/deactivate").raise_for_status()
    container.runner.catch_up(["pricing_rules"])
    before = snapshot(container.pool, live_schema("pricing_rules"))
    container.runner.rebuild("pricing_rules")
    assert before["rules"] and snapshot(container.pool, live_schema("pricing_rules")) == before
