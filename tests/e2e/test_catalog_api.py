"""The catalog over HTTP: products, prices, lifecycle, variants, history, categories; and bad
input answered with a 4xx code and nothing written."""

from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error
from tests.factories import new_sku

USD = {"amount": "19.99", "currency": "USD"}


def _head(api) -> int:
    return api.get("/events", params={"limit": 1}).json()["head"]


def _create(api, **fields) -> dict:
    body = {"sku": new_sku("E2E"), "name": "Mug", "price": USD, **fields}
    r = api.post("/products", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _get(api, product_id: str, position: int):
    return api.get(f"/products/{product_id}", params={"min_position": position})


def _at(r) -> dict:  # noqa: ANN001
    """Read-your-writes: the position of a command's answer as ``?min_position=``."""
    return {"min_position": r.json()["position"]}


def test_a_created_product_reads_back_with_version_and_etag(api):
    sku = new_sku("E2E")
    r = api.post(
        "/products",
        json={
            "sku": sku,
            "name": "Blue mug",
            "description": "Holds tea",
            "brand": "Acme",
            "attributes": {"material": "ceramic"},
            "price": USD,
            "variants": [{"sku": f"{sku}-S", "options": {"size": "S"}}],
        },
    )
    assert r.status_code == 201, r.text
    ack = r.json()
    assert ack["sku"] == sku and ack["version"] == 3 and ack["position"] > 0
    got = _get(api, ack["id"], ack["position"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"3"'
    product = got.json()
    assert product["status"] == "draft"
    assert product["price"] == USD
    assert product["attributes"] == {"material": "ceramic"}
    assert product["variants"][0]["sku"] == f"{sku}-S" and product["variants"][0]["master"]


def test_a_product_reads_back_even_without_min_position(api):
    ack = _create(api)
    assert api.get(f"/products/{ack['id']}").json()["version"] == ack["version"]


def test_a_duplicate_sku_conflicts_and_writes_nothing(api):
    ack = _create(api)
    head = _head(api)
    again = {"sku": ack["sku"], "name": "Other", "price": USD}
    assert_error(api.post("/products", json=again), 409, "duplicate_sku")
    variant = {"sku": new_sku(), "options": {"c": "red"}}
    clash = {
        "sku": new_sku(),
        "name": "x",
        "price": USD,
        "variants": [{**variant, "sku": ack["sku"]}],
    }
    assert_error(api.post("/products", json=clash), 409, "duplicate_sku")
    assert _head(api) == head


def test_a_product_moves_through_its_lifecycle_and_history_records_it(api):
    ack = _create(api)
    pid = ack["id"]
    assert (
        api.post(f"/products/{pid}/lifecycle", json={"status": "pending_approval"}).status_code
        == 200
    )
    rejected = api.post(f"/products/{pid}/lifecycle", json={"status": "draft", "reason": "blurry"})
    assert rejected.status_code == 200
    api.post(f"/products/{pid}/lifecycle", json={"status": "pending_approval"})
    last = api.post(f"/products/{pid}/lifecycle", json={"status": "active"}).json()
    assert last["version"] == 5
    assert _get(api, pid, last["position"]).json()["status"] == "active"
    history = api.get(f"/products/{pid}/history", params={"min_position": last["position"]})
    history = history.json()["items"]
    assert [(h["old"], h["new"]) for h in history] == [
        ("draft", "pending_approval"),
        ("pending_approval", "draft"),
        ("draft", "pending_approval"),
        ("pending_approval", "active"),
    ]
    assert history[1]["reason"] == "blurry"


def test_an_illegal_lifecycle_transition_conflicts_and_writes_nothing(api):
    pid = _create(api)["id"]
    head = _head(api)
    assert_error(
        api.post(f"/products/{pid}/lifecycle", json={"status": "archived"}),
        409,
        "illegal_transition",
    )
    assert_error(api.post(f"/products/{pid}/lifecycle", json={"status": "sold"}), 422)
    assert _head(api) == head


def test_patch_records_each_changed_field_with_its_old_value(api):
    pid = _create(api, brand="Acme")["id"]
    r = api.patch(f"/products/{pid}", json={"name": "Big mug", "brand": "Acme", "description": "x"})
    assert r.status_code == 200 and r.json()["version"] == 2
    history = api.get(f"/products/{pid}/history", params=_at(r)).json()["items"]
    assert {(h["field"], h["old"], h["new"]) for h in history} == {
        ("name", "Mug", "Big mug"),
        ("description", "", "x"),
    }
    same = api.patch(f"/products/{pid}", json={"name": "Big mug"})
    assert same.json()["version"] == 2  # nothing changed, nothing written


def test_a_price_change_keeps_old_new_and_reason(api):
    pid = _create(api)["id"]
    body = {"price": {"amount": "24.50", "currency": "USD"}, "reason": "supplier raise"}
    r = api.post(f"/products/{pid}/price", json=body)
    assert r.status_code == 200, r.text
    assert _get(api, pid, r.json()["position"]).json()["price"]["amount"] == "24.50"
    entry = api.get(f"/products/{pid}/history", params=_at(r)).json()["items"][-1]
    assert entry["field"] == "price" and entry["reason"] == "supplier raise"
    assert entry["old"] == USD and entry["new"] == {"amount": "24.50", "currency": "USD"}
    assert entry["change_type"] == "manual"


def test_if_match_with_a_stale_version_is_refused(api):
    pid = _create(api)["id"]
    head = _head(api)
    r = api.patch(f"/products/{pid}", json={"name": "New"}, headers={"If-Match": '"7"'})
    assert_error(r, 412, "version_mismatch")
    assert _head(api) == head
    ok = api.patch(f"/products/{pid}", json={"name": "New"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2


def test_variants_are_added_and_a_taken_option_set_conflicts(api):
    pid = _create(api)["id"]
    r = api.post(f"/products/{pid}/variants", json={"sku": new_sku("V"), "options": {"size": "M"}})
    assert r.status_code == 201, r.text
    head = _head(api)
    same = api.post(
        f"/products/{pid}/variants", json={"sku": new_sku("V"), "options": {"size": "M"}}
    )
    assert_error(same, 409, "duplicate_variant")
    assert _head(api) == head


def test_listing_filters_by_status_category_and_text_and_pages(api):
    tag = uuid4().hex[:8]
    cat = api.post("/categories", json={"name": "Cups", "slug": f"cups-{tag}"}).json()
    made = [_create(api, name=f"Cup {tag} {i}", category_ids=[cat["id"]]) for i in range(3)]
    moved = api.post(f"/products/{made[0]['id']}/lifecycle", json={"status": "pending_approval"})
    last = moved.json()["position"]
    page = api.get("/products", params={"q": tag, "limit": 2, "min_position": last}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/products", params={"q": tag, "limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [p["id"] for p in page["items"] + rest["items"]]
    assert ids == [m["id"] for m in made]
    by_cat = api.get("/products", params={"category_id": cat["id"]}).json()["items"]
    assert len(by_cat) == 3
    pending = api.get("/products", params={"q": tag, "status": "pending_approval"}).json()
    assert [p["id"] for p in pending["items"]] == [made[0]["id"]]


def test_categories_form_a_tree_and_slugs_are_unique(api):
    tag = uuid4().hex[:8]
    root = api.post("/categories", json={"name": f"Home {tag}", "slug": f"home-{tag}"})
    assert root.status_code == 201, root.text
    child = api.post(
        "/categories",
        json={"name": "Kitchen", "slug": f"kitchen-{tag}", "parent_id": root.json()["id"]},
    ).json()
    tree = api.get("/categories", params={"min_position": child["position"]}).json()["items"]
    node = next(n for n in tree if n["slug"] == f"home-{tag}")
    assert [c["slug"] for c in node["children"]] == [f"kitchen-{tag}"]
    head = _head(api)
    assert_error(
        api.post("/categories", json={"name": "X", "slug": f"home-{tag}"}), 409, "duplicate_slug"
    )
    orphan = {"name": "X", "slug": f"orphan-{tag}", "parent_id": str(uuid4())}
    assert_error(api.post("/categories", json=orphan), 422, "unknown_parent")
    assert_error(
        api.post("/categories", json={"name": "X", "slug": "Not A Slug"}), 422, "invalid_slug"
    )
    assert_error(api.post("/categories", json={"name": "X", "slug": "ok", "color": 1}), 422)
    assert _head(api) == head


def test_unknown_products_are_not_found_everywhere(api):
    pid = str(uuid4())
    head = _head(api)
    price = {"price": USD, "reason": "r"}
    variant = {"sku": new_sku(), "options": {"a": "b"}}
    assert_error(api.get(f"/products/{pid}"), 404, "product_not_found")
    assert_error(api.get(f"/products/{pid}/history"), 404, "product_not_found")
    assert_error(api.patch(f"/products/{pid}", json={"name": "x"}), 404, "product_not_found")
    assert_error(api.post(f"/products/{pid}/price", json=price), 404, "product_not_found")
    assert_error(api.post(f"/products/{pid}/variants", json=variant), 404, "product_not_found")
    r = api.post(
        f"/products/{pid}/lifecycle", json={"status": "active"}, headers={"If-Match": '"3"'}
    )
    assert_error(r, 404, "product_not_found")
    assert_error(api.get("/products/not-a-uuid"), 422)
    assert _head(api) == head


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "price": USD},  # no sku
        {"sku": "bad sku!", "name": "x", "price": USD},
        {"sku": "OK-1", "name": "", "price": USD},
        {"sku": "OK-1", "name": "x", "price": {"amount": "-1.00", "currency": "USD"}},
        {"sku": "OK-1", "name": "x", "price": {"amount": 19.99, "currency": "USD"}},
        {"sku": "OK-1", "name": "x", "price": {"amount": "1", "currency": "usd"}},
        {"sku": "OK-1", "name": 5, "price": USD},
        {"sku": "OK-1", "name": "x", "price": USD, "colour": "red"},
        {"sku": "OK-1", "name": "x", "price": USD, "category_ids": ["nope"]},
        {"sku": "OK-1", "name": "x", "price": USD, "variants": [{"sku": "V-1", "options": {}}]},
        {"sku": "OK-1", "name": "x", "price": USD, "attributes": {"n": 2**64}},
        {"sku": "OK-1", "name": "x", "price": USD, "attributes": {"n": [{"m": -(2**63) - 1}]}},
    ],
)
def test_bad_product_input_is_refused_and_writes_nothing(api, body):
    head = _head(api)
    assert_error(api.post("/products", json=body), 422)
    assert _head(api) == head


def test_bad_commands_on_a_product_are_refused_and_write_nothing(api):
    pid = _create(api)["id"]
    head = _head(api)
    negative = {"price": {"amount": "-5", "currency": "USD"}, "reason": "r"}
    assert_error(api.post(f"/products/{pid}/price", json=negative), 422)
    assert_error(api.post(f"/products/{pid}/price", json={"price": USD}), 422)
    assert_error(api.post(f"/products/{pid}/price", json={"price": USD, "reason": ""}), 422)
    assert_error(api.patch(f"/products/{pid}", json={"name": None}), 422)
    assert_error(api.patch(f"/products/{pid}", json={"sku": "new"}), 422)
    assert_error(
        api.post(f"/products/{pid}/variants", json={"sku": "x y", "options": {"a": "b"}}), 422
    )
    assert_error(api.post(f"/products/{pid}/lifecycle", json={"status": 3}), 422)
    euro = {"sku": new_sku(), "options": {"a": "b"}, "price": {"amount": "1", "currency": "EUR"}}
    assert_error(api.post(f"/products/{pid}/variants", json=euro), 422, "currency_mismatch")
    assert_error(
        api.post(
            "/products",
            json={"sku": new_sku(), "name": "x", "price": USD, "category_ids": [str(uuid4())]},
        ),
        422,
        "unknown_category",
    )
    assert_error(api.get("/products", params={"cursor": "garbage!"}), 400, "malformed_cursor")
    assert_error(api.get("/products", params={"limit": 0}), 422)
    assert_error(api.get("/products", params={"status": "sold"}), 422)
    assert _head(api) == head


def test_a_rejection_without_a_reason_is_refused(api):
    pid = _create(api)["id"]
    api.post(f"/products/{pid}/lifecycle", json={"status": "pending_approval"})
    head = _head(api)
    assert_error(
        api.post(f"/products/{pid}/lifecycle", json={"status": "draft"}), 422, "reason_required"
    )
    assert _head(api) == head


def test_an_idempotent_create_is_written_once(api):
    body = {"sku": new_sku("IDEM"), "name": "Once", "price": USD}
    h = {"Idempotency-Key": f"prod-{uuid4().hex}"}
    first = api.post("/products", json=body, headers=h)
    second = api.post("/products", json=body, headers=h)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


def test_variants_can_be_deactivated_and_the_master_moved(api):
    pid = _create(api)["id"]
    first, second = new_sku("V"), new_sku("V")
    api.post(f"/products/{pid}/variants", json={"sku": first, "options": {"size": "S"}})
    api.post(f"/products/{pid}/variants", json={"sku": second, "options": {"size": "L"}})
    moved = api.post(f"/products/{pid}/master-variant", json={"sku": second})
    assert moved.status_code == 200, moved.text
    off = api.post(f"/products/{pid}/variants/{first}/deactivate", json={"reason": "recall"})
    assert off.status_code == 200, off.text
    variants = _get(api, pid, off.json()["position"]).json()["variants"]
    assert [(v["sku"], v["active"], v["master"]) for v in variants] == [
        (first, False, False),
        (second, True, True),
    ]
    head = _head(api)
    assert_error(
        api.post(f"/products/{pid}/master-variant", json={"sku": first}), 409, "variant_inactive"
    )
    assert_error(
        api.post(f"/products/{pid}/master-variant", json={"sku": "NOPE"}), 404, "variant_not_found"
    )
    assert_error(
        api.post(f"/products/{pid}/variants/NOPE/deactivate", json={}), 404, "variant_not_found"
    )
    assert _head(api) == head


def test_categories_can_be_assigned_and_unassigned(api):
    cat = api.post("/categories", json={"name": "Pots", "slug": f"pots-{uuid4().hex[:8]}"}).json()
    pid = _create(api)["id"]
    put = api.put(f"/products/{pid}/categories/{cat['id']}")
    assert put.status_code == 200, put.text
    assert _get(api, pid, put.json()["position"]).json()["category_ids"] == [cat["id"]]
    head = _head(api)
    assert_error(api.put(f"/products/{pid}/categories/{uuid4()}"), 422, "unknown_category")
    assert (
        api.put(f"/products/{pid}/categories/{cat['id']}").json()["version"]
        == put.json()["version"]
    )
    assert _head(api) == head
    gone = api.delete(f"/products/{pid}/categories/{cat['id']}")
    assert _get(api, pid, gone.json()["position"]).json()["category_ids"] == []
