"""Customers over HTTP, on the real program: a customer's life (register, read your writes,
profile, addresses with defaults, segment, consents, block and unblock), bad input answered
``422`` with its code and nothing written, fifty concurrent registrations of one email making
one customer, and who may do what to a customer record."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import httpx
import pytest

from composition import cli
from tests.e2e.conftest import assert_error, auth_headers
from tests.factories import active_product

ADDRESS = {"name": "Ann Lee", "line1": "1 Main St", "city": "Springfield",
           "postal_code": "12345", "country": "US"}  # fmt: skip


def email() -> str:
    return f"ann.{uuid4().hex[:10]}@example.com"


def register(api, **fields) -> dict:
    r = api.post("/customers", json={"email": email(), "name": "Ann Lee", **fields})
    assert r.status_code == 201, r.text
    return r.json()


def read(api, customer_id: str, position: int, headers: dict | None = None) -> dict:
    r = api.get(f"/customers/{customer_id}", params={"min_position": position}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_customer_registers_and_changes_and_reads_back_each_change(api):
    created = register(api, phone="+15551234567", segment="vip")
    cid = created["id"]
    doc = read(api, cid, created["position"])
    assert (doc["name"], doc["phone"], doc["segment"], doc["status"]) == (
        "Ann Lee", "+15551234567", "vip", "active",
    )  # fmt: skip
    assert doc["addresses"] == [] and doc["order_count"] == 0 and doc["lifetime_value"] == []
    assert doc["consents"]["email"]["granted"] is False

    r = api.patch(f"/customers/{cid}", json={"name": "Ann King", "phone": None, "reason": "wed"})
    assert r.status_code == 200, r.text
    home = api.post(f"/customers/{cid}/addresses", json={"address": ADDRESS})
    assert home.status_code == 201, home.text
    work = api.post(
        f"/customers/{cid}/addresses",
        json={"address": {**ADDRESS, "line1": "9 Work Rd"}, "default_billing": True},
    )
    assert api.post(f"/customers/{cid}/segment", json={"segment": "wholesale"}).status_code == 200
    consent = api.post(f"/customers/{cid}/consents", json={"channel": "sms", "granted": True})
    assert consent.status_code == 200, consent.text
    doc = read(api, cid, consent.json()["position"])
    assert (doc["name"], doc["phone"], doc["segment"]) == ("Ann King", None, "wholesale")
    defaults = {a["address"]["line1"]: (a["default_shipping"], a["default_billing"])
                for a in doc["addresses"]}  # fmt: skip
    assert defaults == {"1 Main St": (True, False), "9 Work Rd": (False, True)}
    assert doc["consents"]["sms"]["granted"] and doc["consents"]["sms"]["source"] == "e2e-admin"
    assert doc["consents"]["sms"]["at"]

    removed = api.delete(f"/customers/{cid}/addresses/{work.json()['address_id']}")
    assert removed.status_code == 200, removed.text
    doc = read(api, cid, removed.json()["position"])
    assert [a["address"]["line1"] for a in doc["addresses"]] == ["1 Main St"]

    # the profile change is one event with the old and new value of each field
    events = api.get(f"/streams/{cid}/events").json()["items"]
    (updated,) = [e for e in events if e["type"] == "customer.CustomerProfileUpdated"]
    assert updated["data"]["name"] == {"old": "Ann Lee", "new": "Ann King"}
    assert updated["data"]["phone"] == {"old": "+15551234567", "new": None}


def test_the_list_filters_by_segment_status_and_email_in_any_case(api):
    mine = [register(api, segment="employee") for _ in range(3)]
    blocked = api.post(f"/customers/{mine[0]['id']}/block", json={"reason": "fraud"})
    assert blocked.status_code == 200, blocked.text
    position = blocked.json()["position"]
    page = api.get("/customers", params={"segment": "employee", "status": "blocked",
                                          "min_position": position}).json()  # fmt: skip
    assert mine[0]["id"] in {c["id"] for c in page["items"]}
    assert all(c["status"] == "blocked" and c["segment"] == "employee" for c in page["items"])
    address = read(api, mine[1]["id"], position)["email"]
    found = api.get("/customers", params={"email": address.upper()}).json()["items"]
    assert [c["id"] for c in found] == [mine[1]["id"]]
    seen, cursor = [], None
    while True:
        params = {"segment": "employee", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get("/customers", params=params).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert {c["id"] for c in mine} <= set(seen) and len(seen) == len(set(seen))
    assert_error(api.get("/customers", params={"cursor": "nope"}), 400, "malformed_cursor")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "ann@", "name": "Ann"}, "invalid_email"),
        ({"email": "ann@example.com", "name": "Ann", "phone": "555-1234"}, "invalid_phone"),
        ({"email": "ann@example.com", "name": "A" * 201}, "name_too_long"),
        ({"email": "ann@example.com", "name": "Ann <script>"}, "invalid_name"),
        ({"email": "ann@example.com", "name": "Ann", "segment": "platinum"}, "unknown_segment"),
        ({"email": "ann@example.com"}, "validation_error"),
        ({"email": "ann@example.com", "name": "Ann", "extra": 1}, "validation_error"),
    ],
)
def test_bad_registrations_answer_422_with_their_code_and_write_nothing(api, container, body, code):
    head = container.store.head()
    assert_error(api.post("/customers", json=body), 422, code)
    assert container.store.head() == head


def test_bad_changes_answer_with_their_code_and_write_nothing(api, container):
    cid = register(api)["id"]
    head = container.store.head()
    for method, path, body, status, code in (
        ("PATCH", "", {"phone": "12"}, 422, "invalid_phone"),
        ("PATCH", "", {"name": "x" * 500}, 422, "name_too_long"),
        ("POST", "/segment", {"segment": "gold"}, 422, "unknown_segment"),
        ("POST", "/consents", {"channel": "fax", "granted": True}, 422, "validation_error"),
        ("POST", "/addresses", {"address": {**ADDRESS, "country": "usa"}}, 422, None),
        ("POST", "/block", {}, 422, "validation_error"),
        ("DELETE", f"/addresses/{uuid4()}", None, 404, "address_not_found"),
    ):
        r = api.request(method, f"/customers/{cid}{path}", json=body)
        assert_error(r, status, code)
    assert_error(api.patch(f"/customers/{uuid4()}", json={"name": "X"}), 404, "customer_not_found")
    assert_error(api.get(f"/customers/{uuid4()}"), 404, "customer_not_found")
    assert container.store.head() == head


def test_fifty_concurrent_registrations_of_one_email_make_one_customer(api, server_url):
    address = email()
    spellings = [
        "".join(ch.upper() if (i >> (k % 8)) & 1 else ch for k, ch in enumerate(address))
        for i in range(50)
    ]

    def attempt(spelling: str) -> httpx.Response:
        with httpx.Client(base_url=f"{server_url}/api/v1", headers=auth_headers(), timeout=60) as c:
            return c.post("/customers", json={"email": spelling, "name": "Twin"})

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(attempt, spellings))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * 49, statuses
    for r in answers:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "email_taken"
    (won,) = [r.json() for r in answers if r.status_code == 201]
    found = api.get("/customers", params={"email": address, "min_position": won["position"]})
    assert [c["id"] for c in found.json()["items"]] == [won["id"]]


def test_a_blocked_customer_cannot_order_until_unblocked(api, container):
    sku = active_product(container, price="5.00")[1]
    cid = register(api)["id"]
    order = {"customer_id": cid, "currency": "USD", "lines": [{"sku": sku, "quantity": 1}],
             "shipping_address": ADDRESS, "payment": {"token": "tok_visa"}}  # fmt: skip
    assert api.post(f"/customers/{cid}/block", json={"reason": "chargebacks"}).status_code == 200
    head = container.store.head()
    assert_error(api.post("/orders", json=order), 422, "customer_blocked")
    as_customer = auth_headers("customer", cid)
    assert_error(api.post("/orders", json=order, headers=as_customer), 422, "customer_blocked")
    assert container.store.head() == head
    assert api.post(f"/customers/{cid}/unblock").status_code == 200
    placed = api.post("/orders", json=order, headers=as_customer)
    assert placed.status_code == 201, placed.text
    doc = read(api, cid, placed.json()["position"])
    assert doc["order_count"] == 1 and doc["status"] == "active"


# ---- who may do what ------------------------------------------------------------------------

#: (method, path under /customers/{id}, body): invalid bodies, so an allowed call writes nothing.
ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"bogus": 1}),
    ("POST", "/addresses", {"bogus": 1}),
    ("DELETE", "/addresses/{address}", None),
    ("POST", "/consents", {"bogus": 1}),
    ("POST", "/segment", {"bogus": 1}),
    ("POST", "/block", {"bogus": 1}),
    ("POST", "/unblock", None),
    ("POST", "/forget", {"bogus": 1}),
]
#: Who gets past the gateway, per route (the customer: on their own record only).
ALLOWED = {
    "": {"admin", "merchant", "analyst", "own"},
    "/addresses": {"admin", "merchant", "own"},
    "/addresses/{address}": {"admin", "merchant", "own"},
    "/consents": {"admin", "merchant", "own"},
    "/segment": {"admin", "merchant"},
    "/block": {"admin", "merchant"},
    "/unblock": {"admin", "merchant"},
    "/forget": {"admin"},
}


def test_the_role_matrix_of_the_customer_routes(api, server_url, container):
    a, b = register(api)["id"], register(api)["id"]
    head = container.store.head()
    callers = {
        "admin": auth_headers("admin"),
        "merchant": auth_headers("merchant", "m-1"),
        "analyst": auth_headers("analyst", "an-1"),
        "auditor": auth_headers("auditor", "au-1"),
        "own": auth_headers("customer", a),
        "other": auth_headers("customer", b),
    }
    failures = []
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=30) as http:
        for method, suffix, body in ROUTES:
            key = suffix if method != "PATCH" else "/addresses"  # PATCH: as the other changes
            path = f"/customers/{a}" + suffix.replace("{address}", str(uuid4()))
            for who, headers in callers.items():
                r = http.request(method, path, json=body, headers=headers)
                code = r.json().get("error", {}).get("code") if r.content else None
                if who in ALLOWED[key]:
                    ok = r.status_code not in (401, 403) and code != "customer_not_found"
                elif who == "other" and "own" in ALLOWED[key]:
                    ok = r.status_code == 404 and code == "customer_not_found"
                else:
                    ok = r.status_code == 403 and code in ("forbidden", "forbidden_customer")
                if not ok:
                    failures.append(f"{who:8} {method} {suffix or '/'} -> {r.status_code} {code}")
        listing = {who: http.get("/customers", headers=h).status_code for who, h in callers.items()}
        register_as = {
            who: http.post("/customers", json={}, headers=h).status_code
            for who, h in callers.items()
        }
    assert not failures, "\n".join(failures)
    assert listing == {"admin": 200, "merchant": 200, "analyst": 200, "auditor": 403,
                       "own": 403, "other": 403}  # fmt: skip
    assert register_as == {"admin": 422, "merchant": 422, "analyst": 403, "auditor": 403,
                           "own": 403, "other": 403}  # fmt: skip
    assert container.store.head() == head  # an unblock of an active customer writes nothing


def test_a_customer_changes_their_own_record(api, server_url):
    created = register(api)
    cid = created["id"]
    mine = auth_headers("customer", cid)
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=30, headers=mine) as me:
        assert me.patch(f"/customers/{cid}", json={"phone": "+447700900123"}).status_code == 200
        r = me.post(f"/customers/{cid}/consents", json={"channel": "email", "granted": True})
        assert r.status_code == 200, r.text
        doc = me.get(f"/customers/{cid}", params={"min_position": r.json()["position"]}).json()
    assert doc["phone"] == "+447700900123"
    assert doc["consents"]["email"]["source"] == cid  # the actor: the customer themself


def test_forgetting_over_http_erases_the_customer_and_their_orders_addresses(
    api, container, database_url, server_url, tmp_path, monkeypatch, capsys
):
    t = uuid4().hex[:10]
    secrets = (f"zed.{t}@example.com", f"Zed {t}", f"4 Secret Way {t}")
    created = api.post("/customers", json={"email": secrets[0], "name": secrets[1]}).json()
    cid = created["id"]
    address = {**ADDRESS, "name": secrets[1], "line1": secrets[2]}
    assert api.post(f"/customers/{cid}/addresses", json={"address": address}).status_code == 201
    sku = active_product(container, price="7.00")[1]
    order = {"customer_id": cid, "currency": "USD", "lines": [{"sku": sku, "quantity": 1}],
             "shipping_address": address, "payment": {"token": "tok_visa"}}  # fmt: skip
    placed = api.post("/orders", json=order, headers=auth_headers("customer", cid)).json()
    assert secrets[2] in str(read(api, cid, placed["position"]))

    for role in ("merchant", "customer"):
        r = api.post(f"/customers/{cid}/forget", headers=auth_headers(role, cid))
        assert_error(r, 403)
    r = api.post(f"/customers/{cid}/forget", json={"reason": "gdpr request"})
    assert r.status_code == 200, r.text

    doc = read(api, cid, r.json()["position"])
    assert doc["status"] == "forgotten" and doc["order_count"] == 1
    shown = [
        api.get(f"/customers/{cid}").text,
        api.get("/customers", params={"status": "forgotten", "limit": 500}).text,
        api.get(f"/orders/{placed['id']}").text,
        api.get(f"/orders/{placed['id']}/timeline").text,
        api.get(f"/streams/{cid}/events").text,
        api.get(f"/streams/{placed['id']}/events").text,
    ]
    assert not [s for s in secrets for text in shown if s in text]
    assert api.get(f"/orders/{placed['id']}").json()["total"]["amount"] == "7.00"
    assert api.get("/customers", params={"email": secrets[0]}).json()["items"] == []
    monkeypatch.setenv("ECOM_DATABASE_URL", database_url)
    export = tmp_path / "events.jsonl"
    assert cli.main(["events", "export", "--out", str(export)]) == 0
    capsys.readouterr()
    text = export.read_text()
    assert cid in text and not [s for s in secrets if s in text]
    # the email may register again
    again = api.post("/customers", json={"email": secrets[0].upper(), "name": "New Zed"})
    assert again.status_code == 201, again.text
