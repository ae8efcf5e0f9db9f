"""An idempotent repeat answers the first response, byte for byte (status, content type and
body), for every route that takes an ``Idempotency-Key``, as Stripe does.

The command layer already makes a repeat write nothing (``commands.executor``: the key's
record is written with the events). This pure ASGI middleware keeps what the first request
answered in that record (``EventStore.keep_response``) before the answer leaves, and answers
a repeat of the same request (same principal, key, method, path and body) with it, without
running the route. Only a success is kept: a refused command took no key and may be retried.
Requests without a key pass straight through. The body is the one the gateway read, bounded
and checked (``api.request_limits.BODY``); nothing here reads the request again. A repeat
whose headers the route would refuse (a malformed ``If-Match``) goes to the route and is
refused there, not replayed (the gateway refused a bad ``X-Correlation-Id`` before). A repeat
writes nothing, so no event ever carries the repeat's correlation id.

A repeat that finds no kept answer (the first request is still in flight, or its process
stopped between its commit and keeping the answer) runs the route, which replays from the
key's record; what that route answers is then kept, unless an answer was kept meanwhile, in
which case that one is sent. Routes build their answer from the command's result only (the
record's stream, version and the ``extra`` decided with the events), so such an answer is the
same. The order lane (``POST /orders``) answers from its decided result the same way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from starlette.concurrency import run_in_threadpool

from api.deps import parse_if_match
from api.errors import ApiError
from api.fast_path import header
from api.request_limits import BODY
from eventstore.store import StoredResponse

log = logging.getLogger("ecom.api")

_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # as ``api.deps`` accepts it; else the route refuses


def request_hash(request_line: str, body: bytes) -> str:
    """What binds a key to its request: ``"METHOD /path"`` and the body (as ``api.deps``)."""
    return hashlib.sha256(request_line.encode() + b"\n" + body).hexdigest()


class IdempotentReplay:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http" or scope["method"] not in _METHODS:
            return await self.app(scope, receive, send)
        key = header(scope, b"idempotency-key")
        principal = (scope.get("state") or {}).get("principal")
        body = scope.get(BODY)  # None: no route took it (404, 405), nothing to replay
        if key is None or principal is None or body is None or not _KEY.match(key):
            return await self.app(scope, receive, send)
        try:  # a request the route would refuse for its headers is refused, not replayed
            parse_if_match(header(scope, b"if-match"))
        except ApiError:
            return await self.app(scope, receive, send)
        digest = request_hash(f"{scope['method']} {scope['path']}", body)
        store = scope["app"].state.container.store
        try:
            kept = await run_in_threadpool(store.stored_response, principal.id, key, digest)
        except Exception:  # noqa: BLE001 - the route answers (and reports) a store that fails
            kept = None
        if kept is not None:
            return await _send(send, kept)
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        answer = _answer(start, b"".join(chunks))
        if answer is not None:
            try:
                kept = await run_in_threadpool(
                    store.keep_response, principal.id, key, digest, answer
                )
            except Exception:  # noqa: BLE001 - the command is done: answer it all the same
                log.warning("could not keep the answer under an idempotency key", exc_info=True)
                kept = None
            if kept is not None and kept != answer:  # a repeat's answer was kept first
                return await _send(send, kept)
        await send(start)
        await send({"type": "http.response.body", "body": b"".join(chunks)})


def _answer(start: dict, body: bytes) -> StoredResponse | None:
    """The response as it is kept: a success with a text body, else None (not kept)."""
    status = start.get("status", 0)
    if not 200 <= status < 300:
        return None
    content_type = "application/json"
    for name, value in start.get("headers") or ():
        if name.lower() == b"content-type":
            content_type = value.decode("latin-1")
    try:
        body.decode()
    except UnicodeDecodeError:
        return None
    return StoredResponse(status, content_type, body)


async def _send(send, answer: StoredResponse) -> None:  # noqa: ANN001
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-length", str(len(answer.body)).encode()),
                (b"content-type", answer.content_type.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})
