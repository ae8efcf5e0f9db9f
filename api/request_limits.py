"""Request limits: the body's size (read once, bounded) and the time a request may take.

``refuse_declared_length`` answers a declared ``Content-Length`` that is not a number or is over
the limit before anything is read; ``read_body`` reads the body whole, once, and refuses it
beyond the limit whether or not a length was declared (``413 payload_too_large``). The gateway
(``api.gateway``) does both once per request and hands the bytes on: ``scope[BODY]`` for the
middlewares after it (``api.idempotent_replay``) and ``replaying`` as the app's ``receive``, so
the route reads the same bytes without touching the socket again.

``with_timeout`` answers ``503 request_timeout`` when no answer has started in time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from api.errors import ApiError, error_response, unavailable

MAX_BODY_BYTES = 1_000_000
#: Where the gateway leaves the request body it read (bytes) in the ASGI scope.
BODY = "ecom.body"


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"Request bodies are limited to {max_bytes} bytes.")


def refuse_declared_length(scope: dict, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Raise ``413`` when the declared ``Content-Length`` is not a number or is over
    ``max_bytes`` (nothing has been read yet)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or int(value) > max_bytes:
                raise _too_large(max_bytes)
            return


async def read_body(receive: Callable, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, read once; ``413`` as soon as it grows past ``max_bytes``."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Callable) -> Callable[[], Awaitable[dict]]:
    """A ``receive`` that hands ``body`` on in one message, then defers to ``receive`` (a
    disconnect)."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def with_timeout(timeout_s: float, scope, receive, send, app: Any) -> None:
    """Serve with ``app``; if no answer has started within ``timeout_s``, answer 503 at once and
    drop whatever the request produces later (a worker thread cannot be cancelled). A timer
    rather than a task per request: cheap when nothing times out. What the app's handlers left
    unanswered, raised from an infrastructure failure (``api.errors.unavailable``), is 503 too,
    not the 500 the outermost middleware would answer (and log with a traceback)."""
    if not timeout_s or timeout_s <= 0:
        return await app(scope, receive, send)
    loop = asyncio.get_running_loop()
    started, late = [False], []

    async def guarded_send(message):
        if late:
            return
        if message["type"] == "http.response.start":
            started[0] = True
        await send(message)

    async def answer_timeout():
        response = error_response(
            503,
            "request_timeout",
            f"The request took longer than {timeout_s:g} s.",
            headers={"Retry-After": "1"},
        )
        await response(scope, receive, send)

    def expire():
        if not started[0]:
            late.append(loop.create_task(answer_timeout()))

    timer = loop.call_later(timeout_s, expire)
    try:
        await app(scope, receive, guarded_send)
    except Exception as exc:
        answer = None if started[0] or late else unavailable(exc)
        if answer is None:
            raise
        started[0] = True
        await answer(scope, receive, send)
    finally:
        timer.cancel()
        if late:
            await late[0]
