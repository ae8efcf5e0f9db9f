"""Fast lanes: a lean ASGI handler for the common shape of a hot route.

The gateway (``api.authorization``) runs a lane after all of its checks (limits,
authentication, the role table, ownership, the customer view) in place of FastAPI's router,
dependency solving and response classes, which cost more than the read itself. A lane answers
or declines (returns False): for anything it does not expect (a query parameter it does not
know, a value the route would refuse) it declines and the route answers, exactly as it would
without the lane. The route stays the contract: its OpenAPI entry, its validation errors.

``Lane`` is the signature; ``query_params`` parses a query string the way a lane needs;
``Body`` is the ``receive`` a lane gets (it can read the body and still decline); ``send_json``
answers. The lanes themselves live beside their routes (``api.routes.orders``)
and are listed by (method, route template) in ``api.app``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from api.errors import ApiError, error_response, status_for, unavailable
from domain.errors import DomainError

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


def header(scope: dict, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), as Starlette reads it."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def declared_json_within(scope: dict, max_bytes: int) -> bool:
    """True when the request says its body is JSON with a length of at most ``max_bytes``
    (anything else is the route's to answer: 413, 422, a body sent in chunks)."""
    length = header(scope, b"content-length")
    content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return (
        content_type == "application/json"
        and length is not None
        and length.isascii()
        and length.isdigit()
        and int(length) <= max_bytes
    )


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


class Body:
    """``receive`` for a lane that reads the request body: ``await receive.body()`` reads it
    whole (once), and a route the lane declines to still receives it from the start."""

    def __init__(self, receive: Callable):
        self._receive = receive
        self._body: bytes | None = None
        self._replayed = False

    async def body(self) -> bytes:
        if self._body is None:
            chunks = []
            while True:
                message = await self._receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            self._body = b"".join(chunks)
        return self._body

    async def __call__(self) -> dict:
        if self._body is not None and not self._replayed:
            self._replayed = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        return await self._receive()


async def run_lane(lane: Lane, scope: dict, receive: Callable, send: Callable, params) -> bool:
    """Run ``lane``; an ``ApiError``, ``DomainError`` or infrastructure failure (``503``) it
    raises is answered as the app's handlers answer it (``api.errors``)."""
    try:
        return await lane(scope, receive, send, params)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    except DomainError as exc:
        response = error_response(status_for(exc), exc.code, exc.message, exc.details)
    except Exception as exc:
        answer = unavailable(exc)  # a lane answers only once it has its result: not started
        if answer is None:
            raise
        response = answer
    await response(scope, receive, send)
    return True
