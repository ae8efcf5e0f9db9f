"""Orders over HTTP: modifications, notes, tags and the timeline, concurrency
headers, and bad input for every endpoint (a documented 4xx that writes nothing)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import assert_error, auth_headers, client_for
from tests.factories import active_product, new_sku, send

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip
AGENT = auth_headers("admin", "agent-7")  # the actor recorded is the token's sub


@pytest.fixture(scope="module")
def sku(container):
    return active_product(container, price="19.99")[1]


def order_body(sku: str, **over) -> dict:
    body = {
        "customer_id": str(uuid4()),
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 2}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }
    body.update(over)
    return body


def place(api, sku: str, **over) -> dict:
    r = api.post("/orders", json=order_body(sku, **over))
    assert r.status_code == 201, r.text
    return r.json()


def head(api) -> int:
    return api.get("/events", params={"limit": 1}).json()["head"]


def detail(api, order_id: str, position: int, **params) -> dict:
    r = api.get(f"/orders/{order_id}", params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    return r.json()


def timeline(api, order_id: str, position: int, **params) -> list[dict]:
    r = api.get(f"/orders/{order_id}/timeline", params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def patch(api, order_id: str, body: dict, **kw) -> httpx.Response:
    return api.patch(f"/orders/{order_id}", json=body, headers={**AGENT, **kw})


# ---- placing and reading -----------------------------------------------------------------


def test_a_placed_order_is_pending_priced_from_the_catalog_with_an_etag(api, sku):
    placed = place(api, sku)
    assert placed["status"] == "pending" and placed["version"] == 1 and placed["number"] > 0
    r = api.get(f"/orders/{placed['id']}", params={"min_position": placed["position"]})
    assert r.headers["ETag"] == '"1"'
    order = r.json()
    assert order["number"] == placed["number"]
    [line] = order["lines"]
    assert line["sku"] == sku and line["quantity"] == 2
    assert line["unit_price"] == {"amount": "19.99", "currency": "USD"}
    assert line["total"] == {"amount": "39.98", "currency": "USD"}
    assert (line["reserved"], line["shipped"], line["delivered"], line["returned"]) == (0, 0, 0, 0)
    assert order["subtotal"] == {"amount": "39.98", "currency": "USD"}
    assert order["discount"]["amount"] == "0.00"
    assert (order["payment_status"], order["fulfillment_status"]) == ("pending", "unfulfilled")
    assert (order["tags"], order["notes"], order["shipments"]) == ([], [], [])


def test_a_repeated_channel_order_returns_the_existing_one(api, sku):
    body = order_body(sku, channel="shopify", channel_order_id=f"SH-{uuid4().hex[:8]}")
    first = api.post("/orders", json=body)
    before = head(api)
    again = api.post("/orders", json={**body, "customer_id": str(uuid4())})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert head(api) == before


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(api, sku):
    body, key = order_body(sku), {"Idempotency-Key": f"order-{uuid4().hex}"}
    first = api.post("/orders", json=body, headers=key)
    before = head(api)
    again = api.post("/orders", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert head(api) == before
    other = api.post("/orders", json={**body, "priority": "high"}, headers=key)
    assert_error(other, 422, "idempotency_key_reused")


def test_lists_filter_by_customer_and_status_and_page_with_a_cursor(api, sku):
    customer = str(uuid4())
    ids = {place(api, sku, customer_id=customer)["id"] for _ in range(3)}
    position = head(api)
    seen, cursor = [], None
    while True:
        params = {"customer_id": customer, "limit": 2, "min_position": position}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/orders", params=params).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    pending = api.get("/orders", params={"customer_id": customer, "status": "shipped"}).json()
    assert pending["items"] == []
    window = {
        "customer_id": customer,
        "created_from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "created_to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    assert len(api.get("/orders", params=window).json()["items"]) == 3


# ---- modifications -----------------------------------------------------------------------


def test_s1_changing_priority_records_old_new_reason_actor_and_time(api, sku):
    order = place(api, sku)
    r = patch(api, order["id"], {"priority": "urgent", "reason": "VIP customer"})
    assert r.status_code == 200, r.text
    ack = r.json()
    assert ack["version"] == 2
    assert detail(api, order["id"], ack["position"])["priority"] == "urgent"
    history = api.get(
        f"/orders/{order['id']}/modifications", params={"min_position": ack["position"]}
    ).json()["items"]
    assert len(history) == 1
    [entry] = history
    assert (entry["field"], entry["modification_type"]) == ("priority", "priority_change")
    assert (entry["old_value"], entry["new_value"]) == ("normal", "urgent")
    assert (entry["reason"], entry["actor"]) == ("VIP customer", "agent-7")
    assert entry["occurred_at"]
    assert timeline(api, order["id"], ack["position"])[-1]["type"] == "order_modified"


def test_s2_n_modifications_give_a_history_of_exactly_n_in_stream_order(api, sku):
    order = place(api, sku)
    priorities = ["high", "low", "urgent", "normal", "high"]
    for p in priorities:
        ack = patch(api, order["id"], {"priority": p, "reason": f"to {p}"}).json()
    history = api.get(
        f"/orders/{order['id']}/modifications", params={"min_position": ack["position"]}
    ).json()["items"]
    assert [h["new_value"] for h in history] == priorities
    assert [h["version"] for h in history] == [2, 3, 4, 5, 6]
    assert_error(api.get(f"/orders/{uuid4()}/modifications"), 404, "order_not_found")


def test_a_patch_changes_several_fields_and_unchanged_ones_write_nothing(api, sku):
    order = place(api, sku)
    body = {
        "priority": "normal",
        "shipping_address": {**ADDRESS, "city": "Shelbyville"},
        "gift": {"wrap": True, "message": "Enjoy"},
        "scheduled_delivery": (datetime.now(UTC) + timedelta(days=3)).date().isoformat(),
        "reason": "customer call",
    }
    ack = patch(api, order["id"], body).json()
    assert ack["version"] == 4
    before = head(api)
    again = patch(api, order["id"], body)
    assert again.status_code == 200 and again.json()["version"] == 4
    assert head(api) == before
    doc = detail(api, order["id"], ack["position"])
    assert doc["shipping_address"]["city"] == "Shelbyville" and doc["gift"]["wrap"] is True


def test_s18_a_hundred_concurrent_modifications_all_succeed(api, sku, server_url):
    order = place(api, sku)

    def modify(i: int) -> int:
        with client_for(server_url, timeout=60) as client:
            body = {"gift": {"message": f"message {i}"}, "reason": f"change {i}"}
            r = client.patch(f"/orders/{order['id']}", json=body)
            assert r.status_code == 200, r.text
            return r.json()["version"]

    with ThreadPoolExecutor(16) as pool:
        versions = list(pool.map(modify, range(100)))
    assert sorted(versions) == list(range(2, 102))
    history = api.get(
        f"/orders/{order['id']}/modifications", params={"min_position": head(api)}
    ).json()["items"]
    assert len(history) == 100
    assert {h["reason"] for h in history} == {f"change {i}" for i in range(100)}


def test_s19_modifying_an_unknown_order_is_not_found(api):
    before = head(api)
    assert_error(patch(api, str(uuid4()), {"priority": "high", "reason": "x"}), 404,
                 "order_not_found")  # fmt: skip
    assert head(api) == before


def test_a_stale_if_match_is_412_and_a_current_one_passes(api, sku):
    order = place(api, sku)
    body = {"priority": "high", "reason": "r"}
    assert_error(patch(api, order["id"], body, **{"If-Match": '"5"'}), 412, "version_mismatch")
    assert patch(api, order["id"], body, **{"If-Match": '"1"'}).status_code == 200


# ---- notes and tags ----------------------------------------------------------------------


def test_s11_an_internal_note_is_absent_from_the_customer_view(api, sku):
    order = place(api, sku)
    internal = api.post(f"/orders/{order['id']}/notes", json={"text": "fraud check"})
    assert internal.status_code == 201, internal.text
    visible = api.post(
        f"/orders/{order['id']}/notes",
        json={"text": "Shipping soon", "visible_to_customer": True, "kind": "customer"},
    ).json()
    full = detail(api, order["id"], visible["position"])
    assert [n["text"] for n in full["notes"]] == ["fraud check", "Shipping soon"]
    mine = detail(api, order["id"], visible["position"], view="customer")
    assert [n["note_id"] for n in mine["notes"]] == [visible["note_id"]]


def test_s12_editing_a_note_updates_text_visibility_and_time(api, sku):
    order = place(api, sku)
    note = api.post(f"/orders/{order['id']}/notes", json={"text": "draft"}).json()
    created = detail(api, order["id"], note["position"])["notes"][0]
    r = api.patch(
        f"/orders/{order['id']}/notes/{note['note_id']}",
        json={"text": "final", "visible_to_customer": True},
    )
    assert r.status_code == 200, r.text
    [edited] = detail(api, order["id"], r.json()["position"])["notes"]
    assert (edited["text"], edited["visible_to_customer"]) == ("final", True)
    assert edited["updated_at"] > created["updated_at"]
    before = head(api)
    assert_error(
        api.patch(f"/orders/{order['id']}/notes/{uuid4()}", json={"text": "x"}),
        404,
        "note_not_found",
    )
    assert_error(api.delete(f"/orders/{order['id']}/notes/{uuid4()}"), 404, "note_not_found")
    assert head(api) == before


def test_a_deleted_note_is_hidden_but_the_stream_keeps_it(api, sku):
    order = place(api, sku)
    note = api.post(f"/orders/{order['id']}/notes", json={"text": "oops"}).json()
    gone = api.delete(f"/orders/{order['id']}/notes/{note['note_id']}")
    assert gone.status_code == 200
    assert detail(api, order["id"], gone.json()["position"])["notes"] == []
    stream = api.get(f"/streams/{order['id']}/events").json()["items"]
    assert [e["type"] for e in stream][-2:] == ["order.NoteAdded", "order.NoteDeleted"]


def test_s13_tagging_twice_leaves_one_tag_and_the_second_writes_nothing(api, sku):
    order = place(api, sku)
    first = api.post(f"/orders/{order['id']}/tags", json={"tag": "priority"})
    assert first.status_code == 200, first.text
    before = head(api)
    second = api.post(f"/orders/{order['id']}/tags", json={"tag": "Priority"})
    assert second.json() == first.json()
    assert head(api) == before
    assert detail(api, order["id"], first.json()["position"])["tags"] == ["priority"]


def test_s14_a_tag_lookup_returns_exactly_the_tagged_orders(api, sku):
    tag = f"batch-{uuid4().hex[:8]}"
    tagged = [place(api, sku)["id"] for _ in range(3)]
    place(api, sku)
    for order_id in tagged:
        api.post(f"/orders/{order_id}/tags", json={"tag": tag})
    found = api.get("/orders", params={"tag": tag.upper(), "min_position": head(api)}).json()
    assert sorted(o["id"] for o in found["items"]) == sorted(tagged)
    untag = api.delete(f"/orders/{tagged[0]}/tags/{tag}")
    assert untag.status_code == 200
    found = api.get("/orders", params={"tag": tag, "min_position": untag.json()["position"]})
    assert sorted(o["id"] for o in found.json()["items"]) == sorted(tagged[1:])


# ---- timeline ----------------------------------------------------------------------------


def test_s15_a_new_orders_timeline_starts_with_order_placed(api, sku):
    order = place(api, sku)
    entries = timeline(api, order["id"], order["position"])
    assert [e["type"] for e in entries] == ["order_placed"]
    assert entries[0]["version"] == 1 and entries[0]["correlation_id"]


def test_s16_a_custom_timeline_entry_appears_last_with_its_metadata(api, sku):
    order = place(api, sku)
    metadata = {"duration_s": 42, "topics": ["delivery", "gift"], "nested": {"ok": True}}
    r = api.post(
        f"/orders/{order['id']}/timeline",
        json={"type": "customer_called", "description": "Asked about delivery",
              "metadata": metadata},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    last = timeline(api, order["id"], r.json()["position"])[-1]
    assert (last["type"], last["description"], last["metadata"]) == (
        "customer_called",
        "Asked about delivery",
        metadata,
    )
    newest = timeline(api, order["id"], r.json()["position"], order="desc")[0]
    assert newest["type"] == "customer_called"


def test_s17_place_modify_note_tag_the_timeline_and_read_models_agree_with_the_stream(api, sku):
    order = place(api, sku)
    patch(api, order["id"], {"priority": "high", "reason": "r"})
    api.post(f"/orders/{order['id']}/notes", json={"text": "n"})
    last = api.post(f"/orders/{order['id']}/tags", json={"tag": "t17"}).json()
    entries = timeline(api, order["id"], last["position"])
    assert [e["type"] for e in entries] == ["order_placed", "order_modified", "note_added",
                                            "tag_added"]  # fmt: skip
    stream = api.get(f"/streams/{order['id']}/events").json()["items"]
    assert [e["version"] for e in entries] == [e["version"] for e in stream]
    assert [e["position"] for e in entries] == [e["position"] for e in stream]
    doc = detail(api, order["id"], last["position"])
    assert doc["version"] == len(stream) == 4
    assert (doc["priority"], doc["tags"], len(doc["notes"])) == ("high", ["t17"], 1)


def test_the_state_as_of_a_version_or_instant_is_the_fold_up_to_then(api, sku):
    order = place(api, sku)
    first = patch(api, order["id"], {"priority": "high", "reason": "r"}).json()
    between = datetime.now(UTC).isoformat()
    patch(api, order["id"], {"priority": "low", "reason": "r"})
    at_v2 = api.get(f"/orders/{order['id']}/state", params={"version": 2}).json()
    assert (at_v2["version"], at_v2["state"]["priority"]) == (2, "high")
    then = api.get(f"/orders/{order['id']}/state", params={"as_of": between}).json()
    assert (then["version"], then["state"]["priority"]) == (first["version"], "high")
    now = api.get(f"/orders/{order['id']}/state").json()
    assert (now["version"], now["state"]["priority"], now["status"]) == (3, "low", "pending")
    assert_error(
        api.get(f"/orders/{order['id']}/state", params={"as_of": "2000-01-01T00:00:00Z"}),
        404,
        "order_not_yet_placed",
    )


# ---- bad input: a documented 4xx, nothing written ----------------------------------------


def _bad_placements(sku: str) -> list[tuple[dict, int, str]]:
    return [
        (order_body(sku, lines=[]), 422, "no_lines"),
        (order_body(sku, lines=[{"sku": sku, "quantity": 0}]), 422, "invalid_quantity"),
        (order_body(sku, lines=[{"sku": sku, "quantity": -3}]), 422, "invalid_quantity"),
        (order_body(sku, lines=[{"sku": sku, "quantity": 1001}]), 422, "invalid_quantity"),
        (order_body(sku, lines=[{"sku": sku, "quantity": "2"}]), 422, "validation_error"),
        (order_body(sku, lines=[{"sku": sku, "quantity": 1.5}]), 422, "validation_error"),
        (order_body(sku, lines=[{"sku": new_sku(), "quantity": 1}]), 422, "unknown_sku"),
        (order_body(sku, currency="EUR"), 422, "currency_mismatch"),
        (order_body(sku, customer_id="nope"), 422, "validation_error"),
        (order_body(sku, channel="myspace"), 422, "validation_error"),
        (order_body(sku, priority="asap"), 422, "validation_error"),
        (order_body(sku, total="0.01"), 422, "validation_error"),
        (order_body(sku, lines=[{"sku": sku, "quantity": 1, "price": "0.01"}]), 422,
         "validation_error"),
        (order_body(sku, shipping_address={**ADDRESS, "country": "USA"}), 422,
         "validation_error"),
        (order_body(sku, scheduled_delivery="2000-01-01"), 422, "delivery_date_in_past"),
    ]  # fmt: skip


def test_bad_placements_are_422_with_a_specific_code_and_write_nothing(api, sku):
    before = head(api)
    for body, status, code in _bad_placements(sku):
        assert_error(api.post("/orders", json=body), status, code)
    r = api.post("/orders", content=b"{oops", headers={"content-type": "application/json"})
    assert_error(r, 400)
    assert head(api) == before


def test_an_inactive_product_cannot_be_ordered(api, container):
    from commands.context import CommandContext
    from domain.money import Money
    from domain.product.commands import CreateProduct

    draft = new_sku()
    command = CreateProduct(sku=draft, name="Draft", price=Money.of("1.00", "USD"))
    send(container, command, CommandContext.new("t"))
    before = head(api)
    lines = [{"sku": draft, "quantity": 1}]
    assert_error(api.post("/orders", json=order_body(draft, lines=lines)), 422,
                 "product_not_active")  # fmt: skip
    assert head(api) == before


def test_bad_commands_on_an_order_are_4xx_and_write_nothing(api, sku):
    order_id = place(api, sku)["id"]
    unknown = str(uuid4())
    before = head(api)
    cases = [
        (patch(api, order_id, {"priority": "high"}), 422, "reason_required"),
        (patch(api, order_id, {"reason": "nothing"}), 422, "nothing_to_modify"),
        (patch(api, order_id, {"priority": "asap", "reason": "r"}), 422, "validation_error"),
        (patch(api, order_id, {"status": "shipped", "reason": "r"}), 422, "validation_error"),
        (patch(api, order_id, {"priority": "high", "reason": "r"}, **{"If-Match": "x"}), 400,
         "malformed_if_match"),
        (patch(api, "not-a-uuid", {"priority": "high", "reason": "r"}), 422, "validation_error"),
        (api.post(f"/orders/{order_id}/notes", json={"text": " "}), 422, "invalid_note_text"),
        (api.post(f"/orders/{order_id}/notes", json={"text": "x", "kind": "secret"}), 422,
         "validation_error"),
        (api.post(f"/orders/{order_id}/notes", json={"text": "x", "visible_to_customer": "yes"}),
         422, "validation_error"),
        (api.post(f"/orders/{unknown}/notes", json={"text": "x"}), 404, "order_not_found"),
        (api.patch(f"/orders/{order_id}/notes/{uuid4()}", json={"text": "x", "extra": 1}), 422,
         "validation_error"),
        (api.patch(f"/orders/{order_id}/notes/not-a-uuid", json={"text": "x"}), 422,
         "validation_error"),
        (api.post(f"/orders/{order_id}/tags", json={"tag": ""}), 422, "invalid_tag"),
        (api.post(f"/orders/{order_id}/tags", json={"tag": "x" * 101}), 422, "validation_error"),
        (api.post(f"/orders/{order_id}/tags", json={"tags": ["a"]}), 422, "validation_error"),
        (api.post(f"/orders/{unknown}/tags", json={"tag": "a"}), 404, "order_not_found"),
        (api.delete(f"/orders/{unknown}/tags/a"), 404, "order_not_found"),
        (api.post(f"/orders/{order_id}/timeline", json={"type": "Bad Type", "description": "d"}),
         422, "invalid_timeline_type"),
        (api.post(f"/orders/{order_id}/timeline",
                  json={"type": "order_placed", "description": "d"}), 422,
         "reserved_timeline_type"),
        (api.post(f"/orders/{order_id}/timeline",
                  json={"type": "call", "description": "d", "metadata": [1]}), 422,
         "validation_error"),
        (api.post(f"/orders/{unknown}/timeline", json={"type": "call", "description": "d"}),
         404, "order_not_found"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert_error(response, status, code)
    assert head(api) == before


def test_bad_queries_are_4xx(api, sku):
    placed = place(api, sku)
    order_id, seen = placed["id"], {"min_position": placed["position"]}
    unknown = str(uuid4())
    cases = [
        (api.get(f"/orders/{unknown}"), 404, "order_not_found"),
        (api.get("/orders/not-a-uuid"), 422, "validation_error"),
        (api.get(f"/orders/{order_id}", params={"view": "spy"}), 422, "validation_error"),
        (api.get(f"/orders/{unknown}/timeline"), 404, "order_not_found"),
        (api.get(f"/orders/{order_id}/timeline", params={"order": "up"}), 422,
         "validation_error"),
        (api.get(f"/orders/{unknown}/state"), 404, "order_not_found"),
        (api.get(f"/orders/{order_id}/state", params={"version": 0}), 422, "validation_error"),
        (api.get(f"/orders/{order_id}/state", params={"as_of": "yesterday"}), 422,
         "validation_error"),
        (api.get("/orders", params={"status": "lost"}), 422, "validation_error"),
        (api.get("/orders", params={"limit": 0}), 422, "validation_error"),
        (api.get("/orders", params={"limit": 501}), 422, "validation_error"),
        (api.get("/orders", params={"cursor": "garbage!"}), 400, "malformed_cursor"),
        (api.get("/orders", params={"customer_id": "x"}), 422, "validation_error"),
        (api.get("/orders", params={"created_from": "soon"}), 422, "validation_error"),
        (api.get(f"/orders/{order_id}/modifications", params={"cursor": "e30", **seen}), 400,
         "malformed_cursor"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert_error(response, status, code)
