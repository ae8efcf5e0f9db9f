"""A hot route's fast path: the route's own handler answers its common shape first.

``fast_route(fast)`` is the ``route_class_override`` of a route (``APIRouter.add_api_route``) whose
handler runs ``fast(request)`` before FastAPI's dependency solving and validation: ``fast``
answers (a ``Response``) or declines (``None``), and then the same route's FastAPI handler
answers, exactly as it would without the fast path. There is one router (FastAPI's) and one
route per path: its OpenAPI entry is the route's, its refusals are the route's, and an error
``fast`` raises goes to the app's handlers like any route's.

``query_params`` reads a query string the way a fast path needs; ``declared_json`` says whether
a body is declared JSON (the gateway has already read it, bounded)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.routing import APIRoute

#: ``fast(request)`` → a response, or None to leave the request to the route's own validation.
FastPath = Callable[[Request], Awaitable[Response | None]]


def fast_route(fast: FastPath) -> type[APIRoute]:
    """An ``APIRoute`` class whose handler tries ``fast`` first."""

    class FastRoute(APIRoute):
        def get_route_handler(self):  # noqa: ANN202 - FastAPI's handler type
            full = super().get_route_handler()

            async def handler(request: Request) -> Response:
                response = await fast(request)
                return response if response is not None else await full(request)

            return handler

    FastRoute.__name__ = FastRoute.__qualname__ = f"FastRoute[{fast.__name__}]"
    return FastRoute


def query_params(scope: dict, known: frozenset[str]) -> dict[str, str] | None:
    """The query string as a dict, or None when a name is not in ``known`` or repeats (the
    route's own parsing decides those)."""
    raw = scope.get("query_string") or b""
    if not raw:
        return {}
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= known:
        return None
    return params


def header(scope: dict, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), as Starlette reads it."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def declared_json(scope: dict) -> bool:
    """True when the request declares a JSON body with a length (anything else, say a body
    sent in chunks or as another type, is the route's to answer)."""
    content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return content_type == "application/json" and header(scope, b"content-length") is not None
