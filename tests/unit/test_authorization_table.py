"""The role × route table (``api.authorization.RULES``) covers every route the app serves and
keeps the promises of the roles: read-only auditors and analysts, customers on their own
orders only, admins everywhere, health and readiness open."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.authentication import ROLES
from api.authorization import compile_rules, normalize, order_param, rule_for
from api.routing import flat_routes, route_methods
from composition.bootstrap import build

APP = create_app(build)
RULES = compile_rules(open_docs=False, open_metrics=False)
ROUTES = sorted(
    {(m, r.path) for r in flat_routes(APP) for m in route_methods(r)},
)
OPERATIONS = sorted(
    (method.upper(), path)
    for path, ops in APP.openapi()["paths"].items()
    for method in ops
    if method in ("get", "post", "put", "patch", "delete")
)


def test_every_route_the_app_serves_has_a_rule():
    missing = [f"{m} {p}" for m, p in ROUTES if rule_for(RULES, m, p) is None]
    assert not missing, "routes without an authorization rule: " + ", ".join(missing)


def test_every_operation_in_the_openapi_document_has_a_rule():
    assert len(OPERATIONS) > 30
    missing = [f"{m} {p}" for m, p in OPERATIONS if rule_for(RULES, m, p) is None]
    assert not missing, "operations without an authorization rule: " + ", ".join(missing)


def test_only_health_readiness_and_the_console_shells_are_public_by_default():
    public = {(m, normalize(p)) for m, p in ROUTES if rule_for(RULES, m, p).public}
    # the console's page shells and files hold no data (their scripts call the API with a
    # token), and are only read
    shells = {(m, p) for m, p in public if p == "/console" or p.startswith("/console/")}
    assert {m for m, _ in shells} == {"GET"}
    assert {p for _, p in public - shells} == {"/health", "/ready"}


def test_docs_and_metrics_open_only_when_configured():
    opened = compile_rules(open_docs=True, open_metrics=True)
    assert rule_for(opened, "GET", "/openapi.json").public
    assert rule_for(opened, "GET", "/api/v1/metrics").public
    assert not rule_for(RULES, "GET", "/api/v1/metrics").public


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "/health" not in r[1]])
def test_the_roles_keep_their_promises(method, path):
    rule = rule_for(RULES, method, path)
    if rule.public:
        return
    access = rule.access
    assert access.get("admin") == "all", "admins may do everything"
    assert set(access) <= set(ROLES)
    for reader in ("auditor", "analyst"):
        if method != "GET":
            assert reader not in access, f"{reader} is read-only"
    if "customer" in access:
        template = normalize(path)
        assert template.startswith("/orders"), "customers act on orders only"
        mode = access["customer"]
        if template == "/orders":
            assert mode == ("self" if method == "POST" else "mine")
        else:
            assert mode == "own" and order_param(path), "a customer's order is checked"


def test_customers_can_do_what_the_issue_lists_and_no_more():
    customer = {(m, normalize(p)) for m, p in ROUTES if "customer" in rule_for(RULES, m, p).access}
    assert ("POST", "/orders") in customer
    assert ("GET", "/orders") in customer
    assert ("GET", "/orders/{}") in customer
    assert ("PATCH", "/orders/{}") not in customer
    assert ("POST", "/orders/{}/notes") not in customer
    assert ("GET", "/orders/{}/state") not in customer


def test_the_table_names_merchant_auditor_and_analyst_areas():
    def allowed(role, method, template):
        return role in rule_for(RULES, method, "/api/v1" + template).access

    assert allowed("merchant", "POST", "/products")
    assert allowed("merchant", "POST", "/inventory/{sku}/receipts")
    assert allowed("merchant", "POST", "/locations")
    assert allowed("merchant", "POST", "/orders/{id}/shipments")
    assert allowed("merchant", "PATCH", "/fulfillment-plans/{id}")
    assert not allowed("merchant", "POST", "/orders/{id}/refunds")
    assert not allowed("merchant", "POST", "/cancellation-requests/{id}/approve")
    assert not allowed("merchant", "POST", "/projections/{name}/rebuild")
    assert allowed("auditor", "GET", "/events")
    assert allowed("auditor", "GET", "/streams/{id}/events")
    assert allowed("auditor", "GET", "/orders/{id}/timeline")
    assert allowed("auditor", "GET", "/orders/{id}/state")
    assert allowed("auditor", "GET", "/audit/verify")
    for read in ("/orders", "/orders/{id}", "/orders/{id}/payments", "/orders/{id}/shipments",
                 "/orders/{id}/returns", "/orders/{id}/fulfillment-plans", "/shipments/{id}",
                 "/returns/{id}", "/fulfillment-plans/{id}"):  # fmt: skip
        assert allowed("auditor", "GET", read), read
    assert not allowed("auditor", "POST", "/orders/{id}/refunds")
    assert allowed("analyst", "GET", "/orders")
    assert allowed("analyst", "GET", "/analytics/sales")
    assert not allowed("analyst", "GET", "/events")
    assert allowed("admin", "POST", "/cancellation-requests/{id}/approve")
    assert allowed("admin", "POST", "/orders/{id}/refunds")
