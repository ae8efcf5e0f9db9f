"""The role × route matrix over HTTP: every operation of ``/openapi.json`` against every role,
with the caller's own order and another customer's; then what a customer sees of their own
orders (filtered lists, customer-visible notes) and may not do to anyone else's.

Requests carry empty bodies and made-up ids, so an allowed call answers a validation error or
404 and nothing is written; what is checked is who gets past the gateway."""

from __future__ import annotations

import re
from uuid import uuid4

import httpx
import pytest

from api.authentication import ROLES
from api.authorization import compile_rules, order_param, rule_for
from composition.bootstrap import CAPABILITIES
from composition.capabilities import combine
from tests.e2e.conftest import assert_error, auth_headers
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip
# the test server's defaults, with the program's capabilities' rows first
RULES = compile_rules(open_docs=True, open_metrics=False, extra=combine(CAPABILITIES).rules)


def order_body(customer_id: str, sku: str) -> dict:
    return {
        "customer_id": customer_id,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }


@pytest.fixture(scope="module")
def world(server_url, container):
    """Two customers, A with an order placed by A themself, and an HTTP client."""
    sku = active_product(container, price="12.50")[1]
    a, b = str(uuid4()), str(uuid4())
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=30) as http:
        r = http.post("/orders", json=order_body(a, sku), headers=auth_headers("customer", a))
        assert r.status_code == 201, r.text
        yield {"http": http, "a": a, "b": b, "sku": sku, "order": r.json()}


def operations(http: httpx.Client) -> list[tuple[str, str]]:
    doc = http.get(str(http.base_url).removesuffix("/api/v1/") + "/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


def fill(path: str, order_id: str) -> str:
    """Path parameters: the order for the order's parameter, made-up values elsewhere."""
    name = order_param(path)

    def value(m: re.Match) -> str:
        param = m.group(1)
        if param == name:
            return order_id
        return str(uuid4()) if param.endswith("id") else "nope-1"

    return re.sub(r"\{([^}]+)\}", value, path).removeprefix("/api/v1")


def call(http: httpx.Client, method: str, url: str, role: str, sub: str) -> httpx.Response:
    kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return http.request(method, url, headers=auth_headers(role, sub), **kw)


def test_every_operation_answers_every_role_as_the_table_says(world):
    http, order_id = world["http"], world["order"]["id"]
    ops = operations(http)
    assert len(ops) > 30
    subjects = {role: f"matrix-{role}" for role in ROLES}
    subjects["customer"] = world["a"]  # the owner of the order
    failures = []
    for method, path in ops:
        rule = rule_for(RULES, method, path)
        assert rule is not None, f"{method} {path} has no authorization rule"
        url = fill(path, order_id)
        for role in ROLES:
            r = call(http, method, url, role, subjects[role])
            if rule.public:
                ok = r.status_code not in (401, 403)
            elif role in rule.access:
                refused = r.status_code in (401, 403)
                foreign = r.status_code == 404 and _code(r) == "order_not_found"
                ok = not refused and not (rule.access[role] == "own" and foreign)
            else:
                ok = r.status_code == 403 and _code(r) == "forbidden"
            if not ok:
                failures.append(f"{role:8} {method} {path} -> {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)


def test_another_customers_order_answers_404_on_every_route_a_customer_may_use(world):
    http, order_id, b = world["http"], world["order"]["id"], world["b"]
    checked = 0
    for method, path in operations(http):
        rule = rule_for(RULES, method, path)
        if rule.public or rule.access.get("customer") != "own":
            continue
        r = call(http, method, fill(path, order_id), "customer", b)
        assert_error(r, 404, "order_not_found")
        checked += 1
    unknown = call(http, "GET", f"/orders/{uuid4()}", "customer", b)
    assert_error(unknown, 404, "order_not_found")
    assert checked >= 3


def _code(r: httpx.Response) -> str | None:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# ---- what a customer sees and does ------------------------------------------------------------


def test_a_customer_lists_only_their_own_orders_whatever_they_ask(world):
    http, a, b, sku = world["http"], world["a"], world["b"], world["sku"]
    mine = auth_headers("customer", a)
    other = http.post("/orders", json=order_body(b, sku), headers=auth_headers("customer", b))
    assert other.status_code == 201
    position = other.json()["position"]
    for params in ({}, {"customer_id": b}):
        r = http.get("/orders", params={**params, "min_position": position}, headers=mine)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert {i["customer_id"] for i in items} == {a}
        assert world["order"]["id"] in {i["id"] for i in items}


def test_a_customer_sees_only_the_notes_made_visible_to_them(world):
    http, a, order_id = world["http"], world["a"], world["order"]["id"]
    admin = auth_headers("admin", "clerk-1")
    for text, visible in (("internal remark", False), ("Your parcel ships Monday", True)):
        body = {"text": text, "visible_to_customer": visible}
        r = http.post(f"/orders/{order_id}/notes", json=body, headers=admin)
        assert r.status_code == 201, r.text
    position = r.json()["position"]
    mine = http.get(
        f"/orders/{order_id}",
        params={"min_position": position, "view": "full"},
        headers=auth_headers("customer", a),
    )
    assert mine.status_code == 200, mine.text
    assert [n["text"] for n in mine.json()["notes"]] == ["Your parcel ships Monday"]
    full = http.get(f"/orders/{order_id}", headers=admin).json()
    assert len(full["notes"]) == 2


def test_a_customer_places_orders_for_themself_only(world):
    http, a, b, sku = world["http"], world["a"], world["b"], world["sku"]
    head = http.get("/events", params={"limit": 1}, headers=auth_headers("admin")).json()["head"]
    r = http.post("/orders", json=order_body(b, sku), headers=auth_headers("customer", a))
    assert_error(r, 403, "forbidden_customer")
    again = http.get("/events", params={"after": head}, headers=auth_headers("admin")).json()
    assert all(e["data"].get("customer_id") != b for e in again["items"])


def test_a_customer_may_request_cancellation_of_their_own_order_only(world):
    http, a, b, sku = world["http"], world["a"], world["b"], world["sku"]
    placed = http.post("/orders", json=order_body(a, sku), headers=auth_headers("customer", a))
    order_id = placed.json()["id"]
    body = {"reason": "customer_request"}
    theirs = http.post(
        f"/orders/{order_id}/cancellation-requests", json=body, headers=auth_headers("customer", b)
    )
    assert_error(theirs, 404, "order_not_found")
    mine = http.post(
        f"/orders/{order_id}/cancellation-requests", json=body, headers=auth_headers("customer", a)
    )
    assert mine.status_code == 201, mine.text


def test_read_only_roles_cannot_write_and_merchants_cannot_approve_or_refund(world):
    http, order_id = world["http"], world["order"]["id"]
    for role in ("auditor", "analyst"):
        r = call(http, "POST", "/locations", role, f"ro-{role}")
        assert_error(r, 403, "forbidden")
    r = call(http, "POST", f"/orders/{order_id}/refunds", "merchant", "m-1")
    assert_error(r, 403, "forbidden")
    r = call(http, "POST", f"/cancellation-requests/{uuid4()}/approve", "merchant", "m-1")
    assert_error(r, 403, "forbidden")


# ---- the role matrix over an order that lived: real ids, the status each role gets ----------

#: Reads with real ids (an order placed, paid, shipped, delivered, returned, refunded): each
#: role gets ``200`` where the table lets it in, else ``403``. Auditors read all of them.
READS = (
    "/orders",
    "/orders/{order_id}",
    "/orders/{order_id}/payments",
    "/orders/{order_id}/shipments",
    "/orders/{order_id}/fulfillment-plans",
    "/orders/{order_id}/timeline",
    "/orders/{order_id}/modifications",
    "/orders/{order_id}/children",
    "/orders/{order_id}/state?version=1",
    "/shipments/{shipment_id}",
    "/returns/{return_id}",
    "/fulfillment-plans/{plan_id}",
    "/cancellation-requests",
    "/events?type=payment.PaymentCaptured",
    "/streams/{order_id}/events",
    "/audit/verify",
    "/projections",
)
AUDITOR_READS_ALL = set(READS)


@pytest.fixture(scope="module")
def lived_world(database_url, container):
    """A server running its process managers, an order through its whole life, and the ids
    of everything it holds."""
    from tests.e2e.conftest import client_for, running_server
    from tests.e2e.test_order_timeline_joined import lifecycle

    with running_server(database_url, ECOM_PAYMENT_TIMEOUT_S="0.3") as base:
        with client_for(base, timeout=60) as admin:
            ids = lifecycle(admin, container)
            order = admin.get(f"/orders/{ids['order_id']}").json()
            plan = admin.get(f"/orders/{ids['order_id']}/fulfillment-plans").json()["items"][0]
            ids |= {"plan_id": plan["id"], "customer_id": order["customer_id"],
                    "line_id": order["lines"][0]["line_id"]}  # fmt: skip
            yield admin, ids


def _expected_read(method: str, template: str, role: str) -> int:
    rule = rule_for(RULES, method, template.split("?")[0])
    assert rule is not None, template
    return 200 if rule.public or role in rule.access else 403


def test_each_role_reads_an_orders_whole_life_as_the_table_says(lived_world):
    admin, ids = lived_world
    subjects = {role: f"lived-{role}" for role in ROLES} | {"customer": ids["customer_id"]}
    got, want = {}, {}
    for template in READS:
        url = template.format(**ids)
        for role in ROLES:
            r = admin.get(url, headers=auth_headers(role, subjects[role]))
            got[(template, role)] = r.status_code
            want[(template, role)] = _expected_read("GET", "/api/v1" + template, role)
    assert got == want
    assert {t for (t, role), status in got.items() if role == "auditor" and status == 200} == (
        AUDITOR_READS_ALL
    )


def test_auditors_and_analysts_are_refused_every_write_on_real_ids(lived_world):
    admin, ids = lived_world
    http = admin
    head = admin.get("/events", params={"limit": 1}).json()["head"]
    writes = [(m, p) for m, p in operations(http) if m != "GET"]
    assert len(writes) > 30

    def real(path: str) -> str:
        def value(m: re.Match) -> str:
            return str(ids.get(m.group(1), uuid4()))

        return re.sub(r"\{([^}]+)\}", value, path).removeprefix("/api/v1")

    refused = []
    for method, path in writes:
        for role in ("auditor", "analyst"):
            r = call(http, method, real(path), role, f"lived-{role}")
            if r.status_code != 403 or _code(r) != "forbidden":
                refused.append(f"{role} {method} {path} -> {r.status_code}")
    assert not refused, "\n".join(refused)
    assert admin.get("/events", params={"after": head}).json()["items"] == []
