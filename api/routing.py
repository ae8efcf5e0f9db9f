"""Routing of a request to its rule: which route of the app a request is for, with its path
parameters, and the rule of ``api.authorization`` that covers it.

This is not a router: nothing is dispatched here. The gateway (``api.gateway``) asks ``Routes``
which route template a request is for, so that it can apply the route's rule (and label the
route's metrics) before FastAPI's router runs it. ``RouteIndex`` keeps that lookup to a handful
of candidates per path; the rule per (method, template) is worked out once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
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


class Routes:
    """The app's routes, each with its rule (``rules`` compiled by ``api.authorization``)."""

    def __init__(self, app: FastAPI, rules: list[Rule]):
        self.all = flat_routes(app)
        self.index = RouteIndex(self.all)
        self.rules = rules
        self._rules: dict[tuple[str, str], Rule | None] = {}

    def match(self, scope: dict) -> tuple[Any, dict]:
        """The route ``scope`` is for and its path parameters, or ``(None, {})`` when none is
        (the router then answers 404 or 405)."""
        for candidate in self.index.candidates(scope["path"]):
            match, child = candidate.matches(scope)
            if match == Match.FULL:
                return candidate, child.get("path_params", {})
        return None, {}

    def rule(self, method: str, route: Any) -> Rule | None:
        key = (method, route.path)
        if key not in self._rules:
            self._rules[key] = rule_for(self.rules, method, route.path)
        return self._rules[key]
