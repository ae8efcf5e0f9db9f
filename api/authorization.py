"""Authorization as ONE table: who may call what (role × route), and how a route finds its rule.

``RULES`` maps (method, route template) to the roles allowed. Templates are written without
the ``/api/v1`` prefix and with every path parameter as ``{}``; ``*`` matches anything, the
first matching rule wins, and a route without a rule is denied to everyone (a test walks
every route and fails on a missing rule). A role may be qualified for customers:

- ``customer:own``  the path names an order (``/orders/{id}...``) whose ``customer_id`` must be
  the caller's ``sub``, else ``404`` as for an unknown order; reads get ``?view=customer``
  (``api.ownership``); an added capability may name more owned resources (``/wishlists/{id}``);
- ``customer:mine`` a list: ``?customer_id=`` is forced to the caller's ``sub``;
- ``customer:self`` a body whose ``customer_id`` must be the caller's ``sub`` (placing).

The gateway (``api.gateway``) enforces it on every request; the OpenAPI document describes it
(``api.openapi_security``)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

API_PREFIX = "/api/v1"
PUBLIC = "public"
DOCS = "docs"  # public when ECOM_OPEN_DOCS (default), else staff
METRICS = "metrics"  # public when ECOM_OPEN_METRICS, else admin, analyst, auditor
STAFF_DOCS = "admin merchant auditor analyst"
STAFF_METRICS = "admin analyst auditor"

# (method, template, who). Order matters: the first match wins.
RULES: list[tuple[str, str, str]] = [
    # operations
    ("GET", "/health", PUBLIC),
    ("GET", "/ready", PUBLIC),
    ("GET", "/metrics", METRICS),
    ("GET", "/openapi.json", DOCS),
    ("GET", "/docs", DOCS),
    ("GET", "/docs/oauth2-redirect", DOCS),
    ("GET", "/redoc", DOCS),
    ("GET", "/docs/assets/{}", DOCS),
    # the console's page shells and files hold no data; every call they make carries a token
    ("GET", "/console", PUBLIC),
    ("GET", "/console/*", PUBLIC),
    ("GET", "/projections", "admin auditor analyst"),
    ("GET", "/projections/parked", "admin"),
    ("POST", "/projections/parked/{}/retry", "admin"),
    ("POST", "/projections/parked/{}/skip", "admin"),
    ("POST", "/projections/{}/rebuild", "admin"),
    # events, streams, audit
    ("GET", "/events", "admin auditor"),
    ("GET", "/streams/{}/events", "admin auditor"),
    ("GET", "/audit*", "admin auditor"),
    # time travel (auditors)
    ("GET", "/products/{}/state", "admin merchant analyst auditor"),
    ("GET", "/inventory/{}/state", "admin merchant analyst auditor"),
    ("GET", "/locations/{}/state", "admin merchant analyst auditor"),
    # catalog
    ("GET", "/products/{}/history", "admin merchant analyst auditor"),
    ("GET", "/products", "admin merchant analyst"),
    ("GET", "/products/*", "admin merchant analyst"),
    ("GET", "/categories*", "admin merchant analyst"),
    ("POST", "/products", "admin merchant"),
    ("POST", "/products/*", "admin merchant"),
    ("PATCH", "/products/*", "admin merchant"),
    ("PUT", "/products/*", "admin merchant"),
    ("DELETE", "/products/*", "admin merchant"),
    ("POST", "/categories*", "admin merchant"),
    ("PATCH", "/categories*", "admin merchant"),
    # locations and inventory
    ("GET", "/locations*", "admin merchant analyst"),
    ("POST", "/locations*", "admin merchant"),
    ("PATCH", "/locations*", "admin merchant"),
    ("GET", "/inventory/{}/movements", "admin merchant analyst auditor"),
    ("GET", "/inventory*", "admin merchant analyst"),
    ("POST", "/inventory/*", "admin merchant"),
    ("PUT", "/inventory/*", "admin merchant"),
    # orders: placing, reading
    ("POST", "/orders", "admin customer:self"),
    ("GET", "/orders", "admin merchant analyst auditor customer:mine"),
    ("GET", "/orders/{}", "admin merchant analyst auditor customer:own"),
    ("GET", "/orders/{}/children", "admin merchant analyst auditor customer:own"),
    ("GET", "/orders/{}/timeline", "admin auditor analyst"),
    ("GET", "/orders/{}/modifications", "admin auditor analyst"),
    ("GET", "/orders/{}/state", "admin auditor"),
    # orders: customer requests
    ("POST", "/orders/{}/cancellation-requests", "admin customer:own"),
    ("GET", "/orders/{}/cancellation-requests", "admin analyst auditor customer:own"),
    ("POST", "/orders/{}/returns", "admin customer:own"),
    ("GET", "/orders/{}/returns", "admin merchant analyst auditor customer:own"),
    ("GET", "/orders/{}/payments", "admin analyst auditor customer:own"),
    ("GET", "/orders/{}/shipments", "admin merchant analyst auditor customer:own"),
    # fulfillment and shipping (merchant)
    ("POST", "/orders/{}/splits", "admin merchant"),
    ("GET", "/orders/{}/fulfillment-plans", "admin merchant analyst auditor"),
    ("POST", "/orders/{}/fulfillment-plans*", "admin merchant"),
    ("POST", "/orders/{}/shipments", "admin merchant"),
    ("GET", "/fulfillment-plans*", "admin merchant analyst auditor"),
    ("POST", "/fulfillment-plans/*", "admin merchant"),
    ("PATCH", "/fulfillment-plans/*", "admin merchant"),
    ("GET", "/shipments*", "admin merchant analyst auditor"),
    ("POST", "/shipments/*", "admin merchant"),
    ("PATCH", "/shipments/*", "admin merchant"),
    ("GET", "/returns*", "admin merchant analyst auditor"),
    ("POST", "/returns/*", "admin merchant"),
    # approvals, refunds, order changes (admin)
    ("GET", "/cancellation-requests*", "admin analyst auditor"),
    ("POST", "/cancellation-requests/*", "admin"),
    ("GET", "/refunds*", "admin analyst auditor"),
    ("POST", "/orders/{}/refunds", "admin"),
    ("GET", "/orders/{}/refunds", "admin analyst auditor"),
    ("POST", "/orders/{}/*", "admin"),
    ("PATCH", "/orders/{}*", "admin"),
    ("PUT", "/orders/{}/*", "admin"),
    ("DELETE", "/orders/{}/*", "admin"),
    # analytics, customers, sagas, webhooks
    ("GET", "/analytics*", "admin analyst"),
    ("GET", "/sagas*", "admin auditor analyst"),
    ("GET", "/customers*", "admin analyst"),
    ("*", "/customers*", "admin"),
    ("*", "/webhooks*", "admin"),
]


@dataclass(frozen=True)
class Rule:
    method: str
    pattern: str
    access: dict[str, str]  # role -> "all" | "own" | "mine" | "self"
    public: bool = False


def parse_access(who: str) -> dict[str, str]:
    access = {}
    for item in who.split():
        role, _, mode = item.partition(":")
        access[role] = mode or "all"
    return access


def compile_rules(
    open_docs: bool = True,
    open_metrics: bool = False,
    extra: Sequence[tuple[str, str, str]] = (),
) -> list[Rule]:
    """``extra`` (an added capability's rows, for its own paths) then ``RULES``, compiled."""
    rules = []
    for method, pattern, who in (*extra, *RULES):
        if who == DOCS:
            who = PUBLIC if open_docs else STAFF_DOCS
        elif who == METRICS:
            who = PUBLIC if open_metrics else STAFF_METRICS
        public = who == PUBLIC
        rules.append(Rule(method, pattern, {} if public else parse_access(who), public))
    return rules


_PARAM = re.compile(r"\{[^}]*\}")


def normalize(path_template: str) -> str:
    """``/api/v1/orders/{order_id}`` → ``/orders/{}``."""
    if path_template.startswith(API_PREFIX + "/"):
        path_template = path_template[len(API_PREFIX) :]
    return _PARAM.sub("{}", path_template)


def rule_for(rules: list[Rule], method: str, path_template: str) -> Rule | None:
    template = normalize(path_template)
    for rule in rules:
        if rule.method in (method, "*") and fnmatch.fnmatchcase(template, rule.pattern):
            return rule
    return None


@lru_cache(maxsize=1024)
def order_param(path_template: str) -> str | None:
    """The name of the path parameter that follows ``/orders/``, if any."""
    return owned_param(path_template, "orders")


@lru_cache(maxsize=1024)
def owned_param(path_template: str, segment: str) -> str | None:
    """The name of the path parameter that follows ``/<segment>/``, if any."""
    m = re.search(rf"/{re.escape(segment)}/\{{([^}}:]+)(?::[^}}]*)?\}}", path_template)
    return m.group(1) if m else None
