"""Live chat over HTTP: start one, post messages, read them (``?after=`` a sequence number),
follow them as server-sent events (``/stream``, ``api.chat_live``), and escalate the chat to a
ticket carrying its transcript. Escalation happens once: the first answers ``201`` with the new
ticket, a repeat ``200`` with the same ticket and writes nothing. A customer reaches only their
own chats (``customer:self``, ``customer:own``: another's is ``404 chat_not_found``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.chat_live import sse_messages, wakeups_of
from api.deps import (
    Container,
    ContainerDep,
    ContextDep,
    DispatchDep,
    PrincipalDep,
    read_model,
    wait_for_view,
)
from api.errors import ApiError
from api.routes.tickets import role_of
from api.schemas import ERRORS, Ack, body_of
from domain.chat.commands import EscalateChat, PostChatMessage, StartChat
from domain.ticket.messages import Role
from projections import chats as view

router = APIRouter(prefix="/chats", tags=["support"], responses=ERRORS)
_AGENTS = "admin merchant"
RULES = (
    ("POST", "/chats", f"{_AGENTS} customer:self"),
    ("POST", "/chats/{}/messages", f"{_AGENTS} customer:own"),
    ("GET", "/chats/{}/messages", f"{_AGENTS} customer:own"),
    ("GET", "/chats/{}/stream", f"{_AGENTS} customer:own"),
    ("POST", "/chats/{}/escalate", f"{_AGENTS} customer:own"),
)
OWNED = {"chats": "chat_not_found"}

MessageBody = body_of(PostChatMessage, path=("chat_id", "role"))
EscalateBody = body_of(EscalateChat, path=("chat_id",))
After = Annotated[int, Query(ge=0, le=2**62, description="The last sequence number seen.")]


class ChatAck(Ack):
    id: UUID


class MessageAck(ChatAck):
    seq: int


class Escalated(Ack):
    ticket_id: UUID


class ChatMessage(BaseModel):
    seq: int
    author: str
    role: Role
    text: str
    at: datetime


class ChatMessages(BaseModel):
    items: list[ChatMessage]


def _not_found(chat_id: UUID) -> ApiError:
    return ApiError(404, "chat_not_found", f"Chat {chat_id} does not exist.")


def _require_chat(container: Container, chat_id: UUID) -> None:
    """``404`` unless the chat exists: a chat just started that the view has not applied yet
    is waited for (its first event's position, from the log), so a client may open its stream
    right after starting it."""
    if view.get_chat(container.pool, chat_id) is not None:
        return
    position = container.store.position_of(chat_id, 1)
    if position is None:
        raise _not_found(chat_id)
    wait_for_view(container, view.NAME, position)


@router.post("", status_code=201, response_model=ChatAck)
def start_chat(body: StartChat, dispatch: DispatchDep, ctx: ContextDep):
    """A new chat; an ``order_id`` must name the customer's own order."""
    done = dispatch(body, ctx)
    return ChatAck(id=done.extra["id"], version=done.version, position=done.position)


@router.post("/{chat_id}/messages", status_code=201, response_model=MessageAck)
def post_message(
    chat_id: UUID, body: MessageBody, dispatch: DispatchDep, ctx: ContextDep,
    principal: PrincipalDep,
):  # fmt: skip
    """A message (``seq``: its sequence number). An escalated chat takes none
    (``409 chat_escalated``), nor a full one (``409 chat_full``)."""
    command = PostChatMessage(chat_id=chat_id, **body.fields(), role=role_of(principal))
    done = dispatch(command, ctx)
    return MessageAck(id=chat_id, seq=done.extra["seq"], version=done.version,
                      position=done.position)  # fmt: skip


@router.post(
    "/{chat_id}/escalate",
    status_code=201,
    response_model=Escalated,
    responses={200: {"model": Escalated, "description": "Escalated before: the same ticket."}},
)
def escalate_chat(
    chat_id: UUID, dispatch: DispatchDep, ctx: ContextDep, response: Response,
    body: EscalateBody | None = None,
):  # fmt: skip
    """Open a ticket whose first messages are the chat's transcript (``subject`` defaults to
    the first message, ``priority`` to normal). A chat without messages is
    ``422 chat_empty``."""
    fields = body.fields() if body is not None else {}
    done = dispatch(EscalateChat(chat_id=chat_id, **fields), ctx)
    if not done.extra["created"]:
        response.status_code = 200
    return Escalated(ticket_id=done.extra["ticket_id"], version=done.version,
                     position=done.position)  # fmt: skip


@router.get("/{chat_id}/messages", response_model=ChatMessages,
            dependencies=[read_model(view.NAME)])  # fmt: skip
def list_messages(chat_id: UUID, container: ContainerDep, after: After = 0):
    """The messages after sequence number ``after`` (at most 200; ask again after the last)."""
    _require_chat(container, chat_id)
    return ChatMessages(items=view.messages_after(container.pool, chat_id, after))


@router.get(
    "/{chat_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
    dependencies=[read_model(view.NAME)],
)
async def stream_messages(
    chat_id: UUID,
    request: Request,
    after: After = 0,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
):
    """The chat's messages as server-sent events (``event: message``, ``id`` its sequence
    number, ``data`` the message as JSON): those after ``after`` (or ``Last-Event-ID``), then
    each new one within a second of its commit; a ``: heartbeat`` comment line after a quiet
    spell. The stream ends when the client leaves or the server stops."""
    state = request.app.state
    if await view.chat_async(state.async_reads, chat_id) is None:
        await run_in_threadpool(_require_chat, state.container, chat_id)
    start = last_event_id if last_event_id is not None else after
    events = sse_messages(
        wakeups_of(request.app), state.async_reads, chat_id, start,
        state.container.settings.chat_heartbeat_s,
    )  # fmt: skip
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
