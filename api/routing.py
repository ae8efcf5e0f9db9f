"""Routing of a request: which route of the app it is for (with its path parameters), the rule
of ``api.authorization`` that covers it, and handing it to that route, once.

The gateway (``api.gateway``) asks ``Routes.match`` which route a request is for, so that it
can apply the route's rule (and label the route's metrics) before the route runs. The match is
then left in the scope (``MATCHED``), and the app's router (``use_the_match``) hands the
request straight to that route instead of trying its routes again: one routing pass per
request, over the router's own routes, in their order. ``RouteIndex`` keeps the lookup to a
handful of candidates per path; the rule per (method, template) is worked out once. A request
no route takes fully (404, 405, a redirect) is left to the router as it is."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from api.authorization import Rule, rule_for


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of the app as an object with ``path``, ``methods`` and ``matches(scope)``,
    included routers flattened (FastAPI ≥ 0.160 keeps them as nested route groups)."""
    flat: list[Any] = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            flat.extend(contexts())
        else:
            flat.append(route)
    return flat


class RouteIndex:
    """The routes that could match a path, in their order: those whose segment count and first
    (up to three) literal segments are the path's, plus any route with a parameter among its
    first segments (tried for every path). The gateway matches a request against a handful of
    routes instead of all of them."""

    HEAD = 3

    def __init__(self, routes: list[Any]):
        self.buckets: dict[tuple, list[tuple[int, Any]]] = {}
        self.anywhere: list[tuple[int, Any]] = []
        for i, route in enumerate(routes):
            segments = route.path.strip("/").split("/")
            head = tuple(segments[: self.HEAD])
            if any("{" in s for s in head):
                self.anywhere.append((i, route))
            else:
                self.buckets.setdefault((len(segments), head), []).append((i, route))

    def candidates(self, path: str) -> list[Any]:
        segments = path.strip("/").split("/")
        bucket = self.buckets.get((len(segments), tuple(segments[: self.HEAD])), [])
        if not self.anywhere:
            return [route for _, route in bucket]
        return [route for _, route in sorted(bucket + self.anywhere, key=lambda x: x[0])]


def route_methods(route: Any) -> set[str]:
    return set(getattr(route, "methods", None) or ()) - {"HEAD", "OPTIONS"}


#: Where the gateway leaves ``(route, child scope)`` for the router (``use_the_match``).
MATCHED = "ecom.route"


class Routes:
    """The app's routes, each with its rule (``rules`` compiled by ``api.authorization``)."""

    def __init__(self, app: FastAPI, rules: list[Rule]):
        self.all = flat_routes(app)
        self.index = RouteIndex(self.all)
        self.rules = rules
        self._rules: dict[tuple[str, str], Rule | None] = {}

    def match(self, scope: dict) -> tuple[Any, dict]:
        """The route ``scope`` is for and its path parameters, or ``(None, {})`` when none is
        (the router then answers 404 or 405). The match is left in ``scope[MATCHED]`` for the
        router when the route can be handed the request directly."""
        for candidate in self.index.candidates(scope["path"]):
            match, child = candidate.matches(scope)
            if match == Match.FULL:
                if _direct(candidate):
                    scope[MATCHED] = (candidate, child)
                return candidate, child.get("path_params", {})
        return None, {}

    def rule(self, method: str, route: Any) -> Rule | None:
        key = (method, route.path)
        if key not in self._rules:
            self._rules[key] = rule_for(self.rules, method, route.path)
        return self._rules[key]


def _direct(route: Any) -> bool:
    """True for a FastAPI route (as the router keeps it: an included route's context, with its
    handler built) that can be handed a request without the router's own matching."""
    original = getattr(route, "original_route", route)
    return isinstance(original, APIRoute) and getattr(route, "app", None) is not None


def use_the_match(router: Any) -> None:
    """Make ``router`` (the app's) hand a request the gateway matched straight to its route,
    as its own dispatch does once it has found it: the path parameters and the route in the
    scope, then the route's handler. Anything unmatched goes through the router as before."""
    routed = router.middleware_stack

    async def dispatch(scope, receive, send):
        matched = scope.pop(MATCHED, None)
        if matched is None:
            return await routed(scope, receive, send)
        route, child = matched
        scope.update(child)
        scope.setdefault("router", router)
        scope["route"] = original = getattr(route, "original_route", route)
        fast = getattr(original, "fast_path", None)  # the route's own (``api.fast_path``)
        if fast is None or not await fast(scope, receive, send):
            await route.app(scope, receive, send)

    router.middleware_stack = dispatch
