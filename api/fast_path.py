"""A hot route's fast path: the route's own handler answers its common shape first.

``fast_route(fast)`` is the ``route_class_override`` of a route (``APIRouter.add_api_route``):
before FastAPI's request machinery (its ``Request``, dependency solving, validation and
response classes), the route runs ``fast(scope, receive, send)``, a plain ASGI handler that
answers and returns True, or declines (returns False, having sent nothing), and then the same
route's FastAPI handler answers, exactly as it would without the fast path. There is one router
and one route per path: the OpenAPI entry is the route's, the refusals of anything unusual are
the route's, and an error ``fast`` raises goes to the app's handlers like any route's. The
router runs it whether it matched the request itself or was handed the gateway's match
(``api.routing``).

``query_params`` reads a query string the way a fast path needs; ``declared_json`` says whether
a body is declared JSON; ``send_json`` answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute

#: ``fast(scope, receive, send)`` → True once answered, False to leave the request to the route.
FastPath = Callable[[dict, Callable, Callable], Awaitable[bool]]


def fast_route(fast: FastPath) -> type[APIRoute]:
    """An ``APIRoute`` class whose handler tries ``fast`` first."""

    class FastRoute(APIRoute):
        fast_path = staticmethod(fast)

        async def handle(self, scope, receive, send) -> None:  # FastAPI's own dispatch
            if not await fast(scope, receive, send):
                await super().handle(scope, receive, send)

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


async def send_json(
    send: Callable, body: bytes, status: int = 200, headers: list[tuple[bytes, bytes]] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
