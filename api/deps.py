"""Typed dependencies: the container, the caller, the command context and read-your-writes.

The caller is authenticated once, by the gateway (``api.gateway`` with
``api.authentication``); ``get_principal`` hands on what it found (and verifies the token
itself for an app run without the gateway). Idempotency keys are scoped by the principal's
``sub``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from api.authentication import AuthConfig, Principal, authenticate
from api.errors import ApiError
from commands.context import CommandContext, Idempotency, Outcome
from domain.command import Command

#: The composition root's container (``composition.bootstrap.Container``: ``store``, ``pool``,
#: ``runner``, ``settings``, ...), built by the factory ``api.app.create_app`` is given; typed
#: loosely here so that ``api`` does not import ``ecom``.
Container = Any

# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
# thread pool, a thread hand-off per dependency per request.


async def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]

#: How a route sends its one command: ``dispatch(command, ctx) -> Outcome``
#: (``commands.dispatcher.Dispatcher.handle``).
Dispatch = Callable[[Command, CommandContext], Outcome]


async def get_dispatch(request: Request) -> Dispatch:
    return request.app.state.container.dispatcher.handle


DispatchDep = Annotated[Dispatch, Depends(get_dispatch)]


def auth_config(app) -> AuthConfig:
    """The verification settings, built once per app from the container's settings."""
    config = getattr(app.state, "auth_config", None)
    if config is None:
        config = AuthConfig.from_settings(app.state.container.settings)
        app.state.auth_config = config
    return config


def get_principal(request: Request) -> Principal:
    """The caller, from its verified bearer token (``api.authentication``); once per request.

    The gateway (``api.gateway``) has usually authenticated already and left the
    principal in ``request.state``; otherwise the token is verified here."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        principal = authenticate(auth_config(request.app), request.headers.get("authorization"))
        request.state.principal = principal
    return principal


async def _principal(request: Request) -> Principal:
    return get_principal(request)  # CPU only: verified tokens are cached (``api.authentication``)


PrincipalDep = Annotated[Principal, Depends(_principal)]

#: ``If-Match``: a version as the ETag gives it (``"3"``; weak or unquoted accepted).
IF_MATCH_PATTERN = r'^(W/)?"?([0-9]{1,18})"?$'
#: ``Idempotency-Key``: 1-255 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_ETAG = re.compile(IF_MATCH_PATTERN)
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    m = _ETAG.match(value.strip())
    if not m:
        raise ApiError(400, "malformed_if_match", 'If-Match must be a version like "3".')
    return int(m.group(2))


async def command_context(
    request: Request,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> CommandContext:
    """``X-Correlation-Id`` is declared for the document; the gateway read and checked it and
    made it the request's id (``api.request_ids``), which the context takes."""
    body = await request.body() if idempotency_key is not None else b""
    return context_for(
        principal,
        f"{request.method} {request.url.path}",
        body,
        idempotency_key=idempotency_key,
        if_match=if_match,
        request_id=request_id_of(request.scope),
    )


def request_id_of(scope: dict) -> str | None:
    """The request's id, as the gateway made it (``api.request_ids``)."""
    return (scope.get("state") or {}).get("request_id")


def context_for(
    principal: Principal,
    request_line: str,
    body: bytes,
    *,
    idempotency_key: str | None,
    if_match: str | None,
    request_id: str | None,
) -> CommandContext:
    """A command's context from its request: the actor, the request's id (the correlation
    and causation of the events it writes), the expected version (``If-Match``) and the
    idempotency key, scoped by principal and bound to the hash of ``request_line`` ("METHOD
    /path") and the body, so the same key with another request is refused."""
    idem = None
    if idempotency_key is not None:
        if not _KEY.match(idempotency_key):
            raise ApiError(
                400,
                "malformed_idempotency_key",
                "Idempotency-Key must be 1-255 printable characters.",
            )
        digest = hashlib.sha256(request_line.encode() + b"\n" + body).hexdigest()
        idem = Idempotency(principal=principal.id, key=idempotency_key, request_hash=digest)
    return CommandContext.new(
        actor=principal.id,
        request_id=request_id,
        idempotency=idem,
        expected_version=parse_if_match(if_match),
    )


ContextDep = Annotated[CommandContext, Depends(command_context)]


def read_model(name: str):
    """Dependency factory: wait for ``?min_position=`` on view ``name`` (503 after 5 s)."""

    async def wait(
        container: ContainerDep,
        min_position: Annotated[int | None, Query(ge=0)] = None,
    ) -> None:
        if min_position is not None:  # the blocking wait, off the event loop
            await run_in_threadpool(wait_for_view, container, name, min_position)

    return Depends(wait)


MinPosition = Annotated[int | None, Query(ge=0)]


def wait_for_view(container: Container, name: str, min_position: int | None) -> None:
    """Read-your-writes: return once view ``name`` has applied ``min_position`` (422 beyond
    the head, 503 after 5 s). Blocking: for a route's own thread or ``read_model``."""
    if min_position is None:
        return
    if min_position > container.store.head():
        raise ApiError(
            422,
            "position_beyond_head",
            f"No event has been written at position {min_position} yet.",
        )
    if not container.runner.wait_for(name, min_position, timeout_s=5.0):
        raise ApiError(
            503,
            "projection_lagging",
            f"The '{name}' view has not reached position {min_position} yet.",
            headers={"Retry-After": "1"},
        )
