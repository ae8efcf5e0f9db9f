"""The wishlist end to end: the real program under uvicorn with the wishlist capability added
(``tests/template/asgi.py``), over HTTP, against real PostgreSQL.

It gets a database of its own: the session's core-only servers and followers share theirs and
know no wishlist events."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import httpx
import psycopg
import pytest

from composition.bootstrap import CAPABILITIES, build
from composition.settings import Settings
from projections.base import live_schema
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.integration.test_projection_rebuild import snapshot
from tests.template.wishlist import WISHLIST, view

ADA, BOB = str(uuid4()), str(uuid4())


@pytest.fixture(scope="module")
def wishlist_database(database_url: str) -> Iterator[str]:
    name = f"ecom_wishlist_{uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(database_url, dbname=name)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def base_url(wishlist_database: str) -> Iterator[str]:
    target = "tests.template.asgi:app"
    with running_server(wishlist_database, target=target, ECOM_RUN_PROCESSES="0") as base:
        yield base


@pytest.fixture(scope="module")
def ada(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url, "customer", ADA) as client:
        yield client


@pytest.fixture(scope="module")
def bob(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url, "customer", BOB) as client:
        yield client


@pytest.fixture(scope="module")
def admin(base_url: str) -> Iterator[httpx.Client]:
    with client_for(base_url) as client:
        yield client


def created(client: httpx.Client, customer_id: str = ADA) -> str:
    r = client.post("/wishlists", json={"customer_id": customer_id})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def events_of(admin: httpx.Client, wishlist_id: str) -> list[str]:
    return [e["type"] for e in admin.get(f"/streams/{wishlist_id}/events").json()["items"]]


def test_create_add_add_again_remove_then_read_your_writes(ada: httpx.Client):
    wishlist = created(ada)
    first = ada.post(f"/wishlists/{wishlist}/items", json={"sku": "TEE-RED-M"}).json()
    ada.post(f"/wishlists/{wishlist}/items", json={"sku": "MUG-1"}).raise_for_status()
    again = ada.post(f"/wishlists/{wishlist}/items", json={"sku": "MUG-1"})
    assert again.status_code == 200 and again.json()["version"] == 3  # no second MUG-1
    removed = ada.delete(f"/wishlists/{wishlist}/items/TEE-RED-M")
    assert removed.status_code == 200, removed.text
    assert (first["version"], removed.json()["version"]) == (2, 4)

    got = ada.get(f"/wishlists/{wishlist}", params={"min_position": removed.json()["position"]})
    assert got.status_code == 200, got.text
    assert got.json() == {"id": wishlist, "customer_id": ADA, "version": 4, "skus": ["MUG-1"]}


def test_removing_a_sku_not_there_and_adding_one_there_write_nothing(ada, admin):
    wishlist = created(ada)
    ada.post(f"/wishlists/{wishlist}/items", json={"sku": "A"}).raise_for_status()
    assert ada.delete(f"/wishlists/{wishlist}/items/B").json()["version"] == 2
    assert ada.post(f"/wishlists/{wishlist}/items", json={"sku": "A"}).json()["version"] == 2
    assert events_of(admin, wishlist) == ["wishlist.WishlistCreated", "wishlist.WishlistItemAdded"]


@pytest.mark.parametrize(
    "body",
    [{"sku": "has space"}, {"sku": ""}, {"sku": 7}, {}, {"sku": "A", "note": "x"}, [1]],
)
def test_bad_input_is_a_4xx_with_a_code_and_writes_nothing(ada, admin, body):
    wishlist = created(ada)
    r = ada.post(f"/wishlists/{wishlist}/items", json=body)
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["code"] in ("validation_error", "malformed_request")
    assert events_of(admin, wishlist) == ["wishlist.WishlistCreated"]


def test_a_bad_create_writes_nothing(admin):
    head = admin.get("/events", params={"after": 0, "limit": 1}).json()["head"]
    assert_error(admin.post("/wishlists", json={"customer_id": "ada"}), 422, "validation_error")
    assert_error(admin.post("/wishlists", json={}), 422, "validation_error")
    assert admin.get("/events", params={"after": 0, "limit": 1}).json()["head"] == head


def test_an_unknown_wishlist_is_404(ada, admin):
    unknown = uuid4()
    assert_error(admin.get(f"/wishlists/{unknown}"), 404, "wishlist_not_found")
    add = admin.post(f"/wishlists/{unknown}/items", json={"sku": "A"})
    assert_error(add, 404, "wishlist_not_found")
    assert_error(ada.get(f"/wishlists/{unknown}"), 404, "wishlist_not_found")
    assert_error(ada.delete(f"/wishlists/{unknown}/items/A"), 404, "wishlist_not_found")


def test_another_customers_wishlist_is_404_and_untouched(ada, bob, admin):
    made = ada.post("/wishlists", json={"customer_id": ADA}).json()
    wishlist, seen = made["id"], {"min_position": made["position"]}
    assert ada.get(f"/wishlists/{wishlist}", params=seen).status_code == 200
    assert admin.get(f"/wishlists/{wishlist}", params=seen).status_code == 200
    assert_error(bob.get(f"/wishlists/{wishlist}"), 404, "wishlist_not_found")
    add = bob.post(f"/wishlists/{wishlist}/items", json={"sku": "A"})
    assert_error(add, 404, "wishlist_not_found")
    assert_error(bob.delete(f"/wishlists/{wishlist}/items/A"), 404, "wishlist_not_found")
    assert events_of(admin, wishlist) == ["wishlist.WishlistCreated"]


def test_a_customer_creates_wishlists_for_themself_only(bob):
    assert_error(bob.post("/wishlists", json={"customer_id": ADA}), 403, "forbidden_customer")


def test_an_idempotent_create_answers_the_first_wishlist(ada):
    key = {"Idempotency-Key": f"wishlist-{uuid4()}"}
    first = ada.post("/wishlists", json={"customer_id": ADA}, headers=key)
    again = ada.post("/wishlists", json={"customer_id": ADA}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


def test_a_read_beyond_the_head_is_refused(ada):
    wishlist = created(ada)
    r = ada.get(f"/wishlists/{wishlist}", params={"min_position": 10**12})
    assert_error(r, 422, "position_beyond_head")


def test_the_view_rebuilt_from_scratch_equals_the_live_one(ada, wishlist_database):
    """Every wishlist written so far (these tests run in file order), folded again."""
    ada.post(f"/wishlists/{created(ada)}/items", json={"sku": "KEEP"}).raise_for_status()
    settings = Settings(database_url=wishlist_database, pool_size=2)
    capabilities = (*CAPABILITIES, WISHLIST)
    container = build(settings, url=wishlist_database, capabilities=capabilities)
    try:
        container.runner.catch_up([view.NAME])
        before = snapshot(container.pool, live_schema(view.NAME))
        container.runner.rebuild(view.NAME)
        assert before["wishlists"] and before["items"]
        assert snapshot(container.pool, live_schema(view.NAME)) == before
    finally:
        container.close()


def test_other_roles_are_refused(base_url):
    with client_for(base_url, "merchant", "m-1") as merchant:
        assert_error(merchant.get(f"/wishlists/{uuid4()}"), 403, "forbidden")
