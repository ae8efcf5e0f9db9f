"""Reviews and recommendations over HTTP, on the real program: a review's life (submit,
moderate, respond, vote, edit back to pending) with the product's rating following the
approved reviews, sorted and paged lists, who may do what, bad input answered ``4xx`` with its
code and nothing written, and recommendations that never show the product itself, an
inactive or out-of-stock product, or what the customer bought."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest

from commands.context import CommandContext
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from tests.e2e.conftest import assert_error, client_for
from tests.factories import active_product, send

ADDRESS = {"name": "Bea", "line1": "1 Main St", "city": "Springfield", "postal_code": "1",
           "country": "US"}  # fmt: skip


@pytest.fixture
def ann(server_url: str) -> Iterator[tuple[httpx.Client, str]]:
    customer = str(uuid4())
    with client_for(server_url, "customer", customer) as client:
        yield client, customer


@pytest.fixture
def merchant(server_url: str) -> Iterator[httpx.Client]:
    with client_for(server_url, "merchant", "e2e-merchant") as client:
        yield client


def review(client: httpx.Client, product_id, customer: str, rating: int = 4, **kw) -> dict:
    body = {"customer_id": customer, "rating": rating, "text": "Does the job.", **kw}
    r = client.post(f"/products/{product_id}/reviews", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def relate(client: httpx.Client, product_id, kind: str, other) -> httpx.Response:
    body = {"type": kind, "product_id": str(other)}
    return client.post(f"/products/{product_id}/relationships", json=body)


def ok(r: httpx.Response) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_a_review_is_moderated_voted_on_edited_and_the_rating_follows(
    api, ann, merchant, container
):
    client, customer = ann
    product_id, _sku = active_product(container)
    made = review(client, product_id, customer, rating=4, title="Good")
    assert (made["status"], made["verified"], made["version"]) == ("pending", False, 1)
    assert_error(
        client.post(f"/products/{product_id}/reviews",
                    json={"customer_id": customer, "rating": 5, "text": "Again"}),
        409, "review_exists",
    )  # fmt: skip
    mine = ok(client.get(f"/reviews/{made['id']}", params={"min_position": made["position"]}))
    assert (mine["status"], mine["rating"], mine["title"]) == ("pending", 4, "Good")
    listed = ok(
        api.get(f"/products/{product_id}/reviews", params={"min_position": made["position"]})
    )
    assert listed["items"] == []  # pending: not shown

    approved = ok(merchant.post(f"/reviews/{made['id']}/moderation", json={"decision": "approve"}))
    ok(merchant.post(f"/reviews/{made['id']}/response", json={"text": "Thank you!"}))
    with client_for(client.base_url.scheme + "://" + client.base_url.netloc.decode(),
                    "customer", str(uuid4())) as bob:  # fmt: skip
        vote = ok(bob.post(f"/reviews/{made['id']}/votes", json={"helpful": True}))
        again = ok(bob.post(f"/reviews/{made['id']}/votes", json={"helpful": True}))
        assert again["version"] == vote["version"]  # the same vote writes nothing
        changed = ok(bob.post(f"/reviews/{made['id']}/votes", json={"helpful": False}))
    product = ok(api.get(f"/products/{product_id}", params={"min_position": changed["position"]}))
    assert product["rating"] == {"average": 4.0, "count": 1,
                                 "histogram": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}  # fmt: skip
    [shown] = ok(client.get(f"/products/{product_id}/reviews"))["items"]
    assert (shown["helpful_count"], shown["unhelpful_count"]) == (0, 1)
    assert shown["response"]["text"] == "Thank you!" and approved["version"] == 2

    edited = ok(client.patch(f"/reviews/{made['id']}", json={"rating": 2}))
    product = ok(api.get(f"/products/{product_id}", params={"min_position": edited["position"]}))
    assert product["rating"]["count"] == 0 and product["rating"]["average"] is None
    current = client.get(f"/reviews/{made['id']}")
    assert ok(current)["status"] == "pending"
    assert current.headers["ETag"] == f'"{edited["version"]}"'
    stale = client.patch(
        f"/reviews/{made['id']}", json={"text": "Hm."}, headers={"If-Match": '"1"'}
    )
    assert_error(stale, 412)
    rejected = merchant.post(f"/reviews/{made['id']}/moderation", json={"decision": "reject"})
    assert rejected.status_code == 200
    assert_error(
        merchant.post(f"/reviews/{made['id']}/moderation", json={"decision": "approve"}),
        409, "illegal_transition",
    )  # fmt: skip


def test_approved_reviews_sort_and_page(api, merchant, server_url, container):
    product_id, _sku = active_product(container)
    ids = {}
    for rating in (2, 5, 3):
        made = review(api, product_id, str(uuid4()), rating=rating)
        ok(merchant.post(f"/reviews/{made['id']}/moderation", json={"decision": "approve"}))
        ids[rating] = made["id"]
    with client_for(server_url, "customer", str(uuid4())) as voter:
        last = ok(voter.post(f"/reviews/{ids[3]}/votes", json={"helpful": True}))

    def ratings(sort: str) -> list[int]:
        params = {"sort": sort, "min_position": last["position"]}
        return [
            r["rating"]
            for r in ok(api.get(f"/products/{product_id}/reviews", params=params))["items"]
        ]

    assert ratings("rating_desc") == [5, 3, 2]
    assert ratings("rating_asc") == [2, 3, 5]
    assert ratings("newest") == [3, 5, 2]
    assert ratings("helpful")[0] == 3
    seen, cursor = [], None
    while True:
        params = {"sort": "rating_desc", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(api.get(f"/products/{product_id}/reviews", params=params))
        seen += [r["rating"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 3, 2]
    product = ok(api.get(f"/products/{product_id}"))
    assert product["rating"]["count"] == 3 and product["rating"]["average"] == pytest.approx(3.33)


def test_who_may_do_what_to_a_review(api, ann, merchant, server_url, container):
    client, customer = ann
    product_id, _sku = active_product(container)
    made = review(client, product_id, customer)
    with client_for(server_url, "customer", str(uuid4())) as other:
        assert_error(
            other.patch(f"/reviews/{made['id']}", json={"rating": 1}), 404, "review_not_found"
        )
        as_ann = {"customer_id": customer, "rating": 1, "text": "x"}
        assert_error(other.post(f"/products/{product_id}/reviews", json=as_ann), 403)
        assert_error(
            other.post(f"/reviews/{made['id']}/moderation", json={"decision": "approve"}), 403
        )
        assert_error(other.post(f"/reviews/{made['id']}/response", json={"text": "x"}), 403)
        assert_error(other.get(f"/customers/{customer}/recommendations"), 404)
    with client_for(server_url, "analyst", "e2e-analyst") as analyst:
        assert analyst.get(f"/products/{product_id}/reviews").status_code == 200
        assert_error(
            analyst.post(f"/reviews/{made['id']}/moderation", json={"decision": "flag"}), 403
        )
    assert_error(merchant.patch(f"/reviews/{made['id']}", json={"rating": 1}), 403)
    assert_error(merchant.post(f"/reviews/{made['id']}/votes", json={"helpful": True}), 403)
    # staff vote for a named customer; without one the vote is refused
    assert_error(
        api.post(f"/reviews/{made['id']}/votes", json={"helpful": True}), 422, "customer_required"
    )


def test_bad_input_is_refused_with_a_code_and_writes_nothing(api, ann, container):
    client, customer = ann
    product_id, _sku = active_product(container)
    head = container.store.head()
    for rating in (0, 6, 4.5, "5", None):
        body = {"customer_id": customer, "rating": rating, "text": "x"}
        assert_error(client.post(f"/products/{product_id}/reviews", json=body), 422)
    body = {"customer_id": customer, "rating": 3, "text": "x"}
    assert_error(client.post(f"/products/{uuid4()}/reviews", json=body), 404, "product_not_found")
    assert_error(client.post(f"/products/{product_id}/reviews", json={**body, "text": "  "}),
                 422, "blank_text")  # fmt: skip
    assert_error(client.post(f"/products/{product_id}/reviews", json={**body, "extra": 1}), 422)
    unknown = uuid4()
    assert_error(
        api.post(f"/reviews/{unknown}/moderation", json={"decision": "approve"}),
        404,
        "review_not_found",
    )
    assert_error(api.post(f"/reviews/{unknown}/moderation", json={"decision": "maybe"}), 422)
    assert_error(api.get(f"/products/{product_id}/reviews", params={"sort": "best"}), 422)
    assert_error(api.get(f"/products/{product_id}/reviews", params={"cursor": "nope"}), 400)
    assert_error(api.get(f"/products/{uuid4()}/reviews"), 404, "product_not_found")
    assert container.store.head() == head


def test_recommendations_skip_the_product_inactive_and_unstocked_ones_and_what_was_bought(
    api, ann, merchant, server_url, container
):
    client, customer = ann
    ctx = CommandContext.new("e2e")
    location = f"REC-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=location, name=location, type="warehouse"), ctx)
    shoe, boot, sock, lace = (active_product(container) for _ in range(4))
    for _pid, sku in (shoe, boot, sock):  # the laces are out of stock
        send(container, ReceiveStock(sku=sku, location=location, quantity=3), ctx)
    for other, kind in ((boot, "similar"), (sock, "accessory"), (lace, "accessory")):
        assert relate(merchant, shoe[0], kind, other[0]).status_code == 201
    again = relate(merchant, shoe[0], "similar", boot[0])
    assert again.status_code == 201 and again.json()["version"] == 3
    assert_error(relate(merchant, shoe[0], "similar", shoe[0]), 422, "self_relationship")
    missing = relate(merchant, shoe[0], "similar", uuid4())
    assert_error(missing, 422, "related_product_not_found")
    assert_error(relate(merchant, uuid4(), "similar", boot[0]), 404, "product_not_found")
    assert_error(relate(merchant, shoe[0], "friend", boot[0]), 422)
    assert_error(relate(client, shoe[0], "similar", boot[0]), 403)
    head = {"min_position": container.store.head()}
    related = ok(
        api.get(f"/products/{shoe[0]}/recommendations", params={"kind": "related", **head})
    )
    assert {r["product_id"] for r in related["items"]} == {str(boot[0]), str(sock[0])}
    assert all(r["reason"] == "related" for r in related["items"])
    for kind in ("bought_together", "trending"):
        got = ok(api.get(f"/products/{shoe[0]}/recommendations", params={"kind": kind, **head}))
        assert str(shoe[0]) not in {r["product_id"] for r in got["items"]}
        assert str(lace[0]) not in {r["product_id"] for r in got["items"]}
    assert_error(api.get(f"/products/{shoe[0]}/recommendations", params={"kind": "ai"}), 422)
    assert_error(api.get(f"/products/{uuid4()}/recommendations"), 404, "product_not_found")
    buyer = ok(api.post("/customers", json={"email": f"b.{uuid4().hex[:8]}@example.com",
                                            "name": "Bea"}))["id"]  # fmt: skip
    order = {"customer_id": buyer, "currency": "USD", "lines": [{"sku": shoe[1], "quantity": 1}],
             "shipping_address": ADDRESS, "payment": {"token": "tok_visa"}}  # fmt: skip
    placed = ok(api.post("/orders", json=order))
    with client_for(server_url, "customer", buyer) as bea:
        params = {"limit": 5, "min_position": placed["position"]}
        mine = ok(bea.get(f"/customers/{buyer}/recommendations", params=params))["items"]
    purchases = {r["product_id"] for r in mine if r["reason"] == "purchases"}
    assert purchases == {str(boot[0]), str(sock[0])}
    assert len(mine) <= 5 and not {str(shoe[0]), str(lace[0])} & {r["product_id"] for r in mine}
