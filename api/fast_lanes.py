"""Fast lanes: a lean ASGI handler for the common shape of a hot route.

The gateway (``api.authorization``) runs a lane after all of its checks (limits,
authentication, the role table, ownership, the customer view) in place of FastAPI's router,
dependency solving and response classes, which cost more than the read itself. A lane answers
or declines (returns False): for anything it does not expect (a query parameter it does not
know, a value the route would refuse) it declines and the route answers, exactly as it would
without the lane. The route stays the contract: its OpenAPI entry, its validation errors.

``Lane`` is the signature; ``query_params`` parses a query string the way a lane needs;
``send_json`` answers. The lanes themselves live beside their routes (``api.routes.orders``)
and are listed by (method, route template) in ``api.app``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from api.errors import ApiError, error_response

#: ``lane(scope, receive, send, path_params)`` → True once answered, False to decline.
Lane = Callable[[dict, Callable, Callable, Mapping[str, Any]], Awaitable[bool]]


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


async def run_lane(lane: Lane, scope: dict, receive: Callable, send: Callable, params) -> bool:
    """Run ``lane``; an ``ApiError`` it raises is answered as the app's handler answers it."""
    try:
        return await lane(scope, receive, send, params)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
        await response(scope, receive, send)
        return True
