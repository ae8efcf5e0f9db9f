"""Search over HTTP: products (a typo, a category with its descendants, an attribute, the
facets, paging), suggestions and order search (number, email, SKU, tag, combined with status
and dates), bad input answered 4xx with a code, and who may search what."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest

from tests.e2e.conftest import assert_error, client_for
from tests.factories import new_sku

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


#: ["numeric", "1e999", <a uuid>]: a price sort's key type, another sort's query
NUMERIC_CURSOR = "WyJudW1lcmljIiwiMWU5OTkiLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ"


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture(scope="module")
def shop(server_url):
    """Two categories (a parent and its child), three products named by a word of their own,
    one order with a tag for a registered customer."""
    word = "zq" + uuid4().hex[:8]
    with client_for(server_url) as api:
        parent = _ok(api.post("/categories", json={"name": f"{word} Root", "slug": word}), 201)
        child = _ok(
            api.post(
                "/categories",
                json={"name": f"{word} Leaf", "slug": f"{word}-leaf", "parent_id": parent["id"]},
            ),
            201,
        )
        products = []
        for i, (color, price) in enumerate((("red", "10.00"), ("blue", "20.00"), ("red", "30.00"))):
            sku = new_sku("SRCH")
            made = _ok(
                api.post(
                    "/products",
                    json={
                        "sku": sku,
                        "name": f"{word} sneaker {i}",
                        "description": "running shoes",
                        "category_ids": [child["id"]] if i < 2 else [],
                        "attributes": {"color": color},
                        "price": {"amount": price, "currency": "USD"},
                    },
                ),
                201,
            )
            for status in ("pending_approval", "active"):
                _ok(api.post(f"/products/{made['id']}/lifecycle", json={"status": status}))
            products.append({**made, "sku": sku})
        review = _ok(
            api.post(
                f"/products/{products[1]['id']}/reviews",
                json={"customer_id": str(uuid4()), "rating": 4, "text": "good"},
            ),
            201,
        )
        _ok(api.post(f"/reviews/{review['id']}/moderation", json={"decision": "approve"}))
        email = f"{word}@example.com"
        customer = _ok(api.post("/customers", json={"email": email, "name": "Searcher"}), 201)
        order = _ok(
            api.post(
                "/orders",
                json={
                    "customer_id": customer["id"],
                    "currency": "USD",
                    "lines": [{"sku": products[0]["sku"], "quantity": 1}],
                    "shipping_address": ADDRESS,
                    "payment": {"method": "card", "token": "tok_visa"},
                },
            ),
            201,
        )
        tagged = _ok(api.post(f"/orders/{order['id']}/tags", json={"tag": f"{word}:vip"}))
        read = api.get(f"/orders/{order['id']}", params={"min_position": tagged["position"]})
        number = _ok(read)["number"]
    return {
        "word": word,
        "parent": parent["id"],
        "products": products,
        "email": email,
        "order": order["id"],
        "number": number,
        "position": tagged["position"],
    }


def _search(api, path: str, shop, **params) -> dict:
    return _ok(api.get(path, params={"min_position": shop["position"], **params}))


def test_a_typo_a_parent_category_and_an_attribute_find_the_products(api, shop):
    word = shop["word"]
    typo = word[:3] + word[4] + word[3] + word[5:]  # two neighbours swapped
    found = _search(api, "/search/products", shop, q=f"{typo} sneakr", sort="price_asc")
    assert [i["name"] for i in found["items"]] == [f"{word} sneaker {i}" for i in range(3)]
    assert found["total"] == 3 and found["facets"]["price"] == {"min": "10.00", "max": "30.00"}
    assert found["items"][0]["price"] == {"amount": "10.00", "currency": "USD"}
    in_tree = _search(api, "/search/products", shop, q=word, category_id=shop["parent"])
    assert in_tree["total"] == 2
    assert {"id": shop["parent"], "count": 2} in in_tree["facets"]["categories"]
    red = _search(api, "/search/products", shop, **{"q": word, "attr.color": "red"})
    assert red["total"] == 2 and red["facets"]["attributes"]["color"] == [
        {"value": "red", "count": 2}
    ]
    priced = _search(api, "/search/products", shop, q=word, price_min="15", price_max="30")
    assert priced["total"] == 2
    assert _search(api, "/search/products", shop, q=word, in_stock="true")["total"] == 0


def test_the_rating_of_approved_reviews_filters_and_sorts(api, shop):
    rated = _search(api, "/search/products", shop, q=shop["word"], rating_min="3.5")
    assert [i["id"] for i in rated["items"]] == [shop["products"][1]["id"]]
    assert rated["items"][0]["rating"] == "4.00"
    by_rating = _search(api, "/search/products", shop, q=shop["word"], sort="rating")
    assert by_rating["items"][0]["id"] == shop["products"][1]["id"]
    assert [i["rating"] for i in by_rating["items"][1:]] == [None, None]


def test_pages_follow_the_cursor_to_the_end(api, shop):
    seen, cursor = [], None
    while True:
        params = {"q": shop["word"], "sort": "price_desc", "limit": 2}
        page = _search(
            api, "/search/products", shop, **params, **({"cursor": cursor} if cursor else {})
        )
        seen += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"{shop['word']} sneaker {i}" for i in (2, 1, 0)]


def test_suggestions_name_products_and_categories_by_their_start(api, shop):
    found = _search(api, "/search/suggest", shop, q=shop["word"])
    assert len(found["products"]) == 3
    assert {c["name"] for c in found["categories"]} == {
        f"{shop['word']} Root",
        f"{shop['word']} Leaf",
    }


def test_orders_are_found_by_number_email_sku_and_tag_with_every_filter_combined(api, shop):
    word, order = shop["word"], shop["order"]
    for q in (
        str(shop["number"]),
        shop["email"].upper(),
        shop["products"][0]["sku"],
        word,
        f"{word}:VIP",
    ):
        found = _search(api, "/search/orders", shop, q=q)
        assert [i["id"] for i in found["items"]] == [order] and found["total"] == 1, q
    assert _search(api, "/search/orders", shop, q=word, status="cancelled")["total"] == 0
    later = _search(api, "/search/orders", shop, q=word, **{"from": "2999-01-01T00:00:00Z"})
    assert later["total"] == 0
    earlier = _search(api, "/search/orders", shop, q=word, to="2000-01-01T00:00:00Z")
    assert earlier["total"] == 0
    assert _search(api, "/search/orders", shop, q="nobody-" + word)["total"] == 0


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"sort": "cheapest"}, 422, "validation_error"),
        ({"rating_min": "0"}, 422, "validation_error"),
        ({"rating_min": "6"}, 422, "validation_error"),
        ({"rating_min": "nan"}, 422, "validation_error"),
        ({"rating_min": ""}, 422, "validation_error"),
        ({"price_min": "-1"}, 422, "invalid_price"),
        ({"price_max": "1e999999"}, 422, "invalid_price"),
        ({"colour": "red"}, 422, "unknown_filter"),
        ({"attr.": "red"}, 422, "invalid_attribute_filter"),
        ({"q": "x" * 1000}, 422, "validation_error"),
        ({"category_id": "not-a-uuid"}, 422, "validation_error"),
        ({"cursor": "%%%"}, 400, "malformed_cursor"),
        ({"cursor": "WyJyZWFsIiwiMSIsIngiXQ"}, 400, "malformed_cursor"),
        (
            {"cursor": NUMERIC_CURSOR},
            400,
            "malformed_cursor",
        ),
    ],
)
def test_bad_product_search_input_is_refused_with_a_code(api, params, status, code):
    assert_error(api.get("/search/products", params=params), status, code)


@pytest.mark.parametrize("q", ["", "&|!", "'\"\\", "a & b | !c:*", "(((", "' OR 1=1 --"])
def test_query_syntax_in_q_is_only_text(api, q):
    found = _ok(api.get("/search/products", params={"q": q, "limit": 1}))
    assert found["total"] >= 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "lost"}, "validation_error"),
        ({"to": "0.5"}, "validation_error"),
        ({"from": "yesterday"}, "validation_error"),
        ({"q": "x" * 1000}, "validation_error"),
    ],
)
def test_bad_order_search_input_is_refused_with_a_code(api, params, code):
    assert_error(api.get("/search/orders", params=params), 422, code)


def test_a_bad_order_cursor_is_refused(api):
    assert_error(api.get("/search/orders", params={"cursor": "WyJ4Il0"}), 400, "malformed_cursor")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("customer", "/search/products", 200),
        ("customer", "/search/suggest", 200),
        ("customer", "/search/orders", 403),
        ("analyst", "/search/orders", 403),
        ("auditor", "/search/products", 403),
        ("merchant", "/search/orders", 200),
    ],
)
def test_who_may_search_what(server_url, role, path, status):
    with client_for(server_url, role=role, sub=str(uuid4())) as client:
        assert client.get(path, params={"q": "shoes"}).status_code == status


def test_a_repeated_search_answers_the_same_until_stock_changes_it(api, shop):
    """Given a search asked twice (the second answered from the cache), when stock arrives for
    one of its products, then the same search shows that product in stock, and the search
    filtered on stock now finds it."""
    product = shop["products"][1]
    params = {"q": shop["word"], "sort": "price_asc"}
    first = _search(api, "/search/products", shop, **params)
    assert _search(api, "/search/products", shop, **params) == first
    assert {i["id"]: i["in_stock"] for i in first["items"]}[product["id"]] is False
    stocked = _search(api, "/search/products", shop, in_stock="true", **params)
    assert product["id"] not in {i["id"] for i in stocked["items"]}
    code = f"SRCH-{uuid4().hex[:8]}"
    body = {"code": code, "name": "W", "type": "warehouse", "priority": 1}
    assert api.post("/locations", json=body).status_code == 201
    r = api.post(f"/inventory/{product['sku']}/receipts", json={"location": code, "quantity": 2})
    assert r.status_code in (200, 201), r.text
    moved = {**shop, "position": r.json()["position"]}
    again = _search(api, "/search/products", moved, **params)
    assert {i["id"]: i["in_stock"] for i in again["items"]}[product["id"]] is True
    stocked = _search(api, "/search/products", moved, in_stock="true", **params)
    assert product["id"] in {i["id"] for i in stocked["items"]}
    metrics = api.get("/metrics").text
    assert re.search(r"^ecom_search_answers [1-9]", metrics, re.M), "the cache keeps answers"
    assert "ecom_search_answers_patched_total" in metrics
    assert 'ecom_search_answers_evicted_total{reason="page"}' in metrics
    assert 'ecom_search_answers_move_seconds_bucket{le="+Inf"}' in metrics
