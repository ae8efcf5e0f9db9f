"""Text no field may hold (control characters, unpaired surrogates) is refused at the edge with
``422 invalid_text`` naming the field, on the hot routes' fast paths as on every other route,
and nothing is written; tab and newline in free text are kept."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import assert_error, auth_headers
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def sku(container):
    return active_product(container, price="5.00")[1]


def order_body(sku: str, customer: str, name: str = "Ann") -> dict:
    return {
        "customer_id": customer,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": {**ADDRESS, "name": name},
        "payment": {"method": "card", "token": "tok_visa"},
    }


MARK = "\uf8ff"  # private use: stands for raw JSON text in ``raw_json``


def raw_json(doc: dict, raw: str) -> bytes:
    """``doc`` as JSON with ``MARK`` replaced by ``raw`` JSON string text, such as a lone
    surrogate escape (which JSON encoders refuse to write)."""
    return json.dumps(doc).replace("\\uf8ff", raw).encode()


def head(api) -> int:
    return api.get("/events", params={"limit": 1}).json()["head"]


def refused(response: httpx.Response, field: str) -> dict:
    error = assert_error(response, 422, "invalid_text")
    assert [d["field"] for d in error["details"]] == [field], error
    assert field in error["message"]
    return error


def test_a_nul_in_the_shipping_name_of_a_customer_order_is_refused_and_writes_nothing(
    api, server_url, sku
):
    # given a customer placing an order (a route with a fast path) whose shipping name holds NUL
    customer = str(uuid4())
    raw = raw_json(order_body(sku, customer, name=f"Ev{MARK}il"), "\\u0000")
    before = head(api)
    # when it is sent, with and without an idempotency key
    for extra in ({}, {"Idempotency-Key": f"nul-{uuid4()}"}):
        r = httpx.post(
            f"{server_url}/api/v1/orders",
            content=raw,
            headers={**auth_headers("customer", customer), **JSON, **extra},
        )
        # then it is refused naming the field, and no event is written
        error = refused(r, "shipping_address.name")
        assert error["details"][0]["loc"] == ["body", "shipping_address", "name"]
    assert head(api) == before
    # and the same order with a clean name is placed
    r = httpx.post(
        f"{server_url}/api/v1/orders",
        json=order_body(sku, customer),
        headers=auth_headers("customer", customer),
    )
    assert r.status_code == 201, r.text


def test_a_nul_in_a_product_name_is_refused(api):
    before = head(api)
    raw = b'{"sku": "NUL-%s", "name": "Bad\\u0000name", ' % uuid4().hex[:8].encode()
    raw += b'"price": {"amount": "1.00", "currency": "USD"}}'
    refused(api.post("/products", content=raw, headers=JSON), "name")
    assert head(api) == before


@pytest.mark.parametrize(
    ("escape", "field"),
    [("\\ud800", "lines[0].sku"), ("\\udfff", "lines[0].sku"), ("\\u0085", "lines[0].sku")],
)
def test_a_lone_surrogate_or_a_c1_control_is_refused(api, sku, escape, field):
    before = head(api)
    body = order_body(sku, str(uuid4()))
    body["lines"][0]["sku"] = sku + MARK
    raw = raw_json(body, escape)
    refused(api.post("/orders", content=raw, headers=JSON), field)
    assert head(api) == before


def test_an_emoji_written_as_a_surrogate_pair_escape_is_text(api, sku):
    raw = raw_json(order_body(sku, str(uuid4()), name=f"Ann {MARK}"), "\\ud83d\\ude00 \\u202e")
    r = api.post("/orders", content=raw, headers=JSON)
    assert r.status_code == 201, r.text
    order = api.get(f"/orders/{r.json()['id']}", params={"min_position": r.json()["position"]})
    assert order.json()["shipping_address"]["name"] == "Ann \U0001f600 \u202e"


def test_tab_and_newline_in_a_note_are_accepted_and_kept(api, sku):
    r = api.post("/orders", json=order_body(sku, str(uuid4())))
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    text = "Leave it\tat the door.\r\nThanks!"
    r = api.post(f"/orders/{order_id}/notes", json={"text": text})
    assert r.status_code == 201, r.text
    order = api.get(f"/orders/{order_id}", params={"min_position": r.json()["position"]}).json()
    assert [n["text"] for n in order["notes"]] == [text]


def test_a_control_character_in_a_note_or_a_key_is_refused(api, sku):
    r = api.post("/orders", json=order_body(sku, str(uuid4())))
    order_id = r.json()["id"]
    before = head(api)
    refused(api.post(f"/orders/{order_id}/notes", json={"text": "bell\x07"}), "text")
    refused(
        api.post(
            f"/orders/{order_id}/timeline",
            json={"type": "x", "description": "y", "metadata": {"a": [{"k\x1b": 1}]}},
        ),  # fmt: skip
        "metadata.a[0].k\\u001b",
    )
    assert head(api) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=5&cursor=%00", "cursor"),
        ("status=pen%01ding", "status"),
        ("min_position=0&x%1F=1", "x\\u001f"),
        ("cursor=%C2%9B", "cursor"),
        ("cursor=a%0Ab", "cursor"),
    ],
)
def test_a_control_character_in_a_query_parameter_is_refused(api, query, field):
    refused(api.get(f"/orders?{query}"), field)


def test_a_control_character_in_a_query_parameter_of_the_order_lane_is_refused(api, sku):
    r = api.post("/orders", json=order_body(sku, str(uuid4())))
    refused(api.get(f"/orders/{r.json()['id']}?view=full%00"), "view")


def test_a_control_character_in_a_path_parameter_is_refused(api):
    before = head(api)
    refused(api.get("/inventory/AB%00C"), "sku")
    r = api.post("/inventory/AB%07C/receipts", json={"location": "WH", "quantity": 1})
    refused(r, "sku")
    assert head(api) == before


def test_a_control_character_in_the_stored_correlation_header_is_refused(api, sku):
    before = head(api)
    r = api.post(
        "/orders",
        json=order_body(sku, str(uuid4())),
        headers={"X-Correlation-Id": b"trace-\x85-1"},  # HTTP carries it as latin-1
    )
    refused(r, "X-Correlation-Id")
    assert head(api) == before
