"""The wishlist plugs in through its capability alone: the app built with it serves its routes,
each under its own rule of the authorization table, and the core's routes keep theirs."""

from __future__ import annotations

from api.authorization import compile_rules, normalize, rule_for
from api.routing import flat_routes, route_methods
from composition.asgi import app_with
from composition.bootstrap import CAPABILITIES
from composition.capabilities import combine
from tests.template.wishlist import WISHLIST, routes

APP = app_with(WISHLIST)
#: The program's capabilities' rows (beside the core's), which the wishlist adds to.
PROGRAM = combine(CAPABILITIES).rules
RULES = compile_rules(open_docs=False, open_metrics=False, extra=(*routes.RULES, *PROGRAM))
ROUTES = sorted({(m, normalize(r.path)) for r in flat_routes(APP) for m in route_methods(r)})


def test_the_app_serves_the_wishlist_routes():
    mine = {(m, p) for m, p in ROUTES if p.startswith("/wishlists")}
    assert mine == {(m, p) for m, p, _ in routes.RULES}


def test_each_wishlist_route_has_its_own_rule_and_every_route_a_rule():
    for method, template, who in routes.RULES:
        rule = rule_for(RULES, method, template)
        assert (rule.method, rule.pattern) == (method, template), who
        assert rule.access["admin"] == "all" and "customer" in rule.access
    assert [f"{m} {p}" for m, p in ROUTES if rule_for(RULES, m, p) is None] == []


def test_the_core_rules_are_unchanged():
    core = compile_rules(open_docs=False, open_metrics=False, extra=PROGRAM)
    for method, path in ROUTES:
        if not path.startswith("/wishlists"):
            assert rule_for(RULES, method, path) == rule_for(core, method, path), path


def test_the_openapi_document_describes_the_wishlist():
    paths = APP.openapi()["paths"]
    assert set(paths["/api/v1/wishlists/{wishlist_id}/items"]) == {"post"}
    assert "min_position" in str(paths["/api/v1/wishlists/{wishlist_id}"]["get"]["parameters"])
