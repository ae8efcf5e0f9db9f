"""Support tickets over HTTP: open, reply, resolve, reopen, close; read one and list them.
A customer opens and acts on their own tickets only (``customer:self`` and ``customer:own``;
another's is ``404 ticket_not_found``) and lists only theirs (``customer:mine``); agents are
merchants and admins. The role a message is written in comes from the caller's token. Whether
a ticket's first-response deadline is breached is computed against the time of the read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.authentication import Principal
from api.deps import ContainerDep, ContextDep, DispatchDep, PrincipalDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, Page, body_of
from commands.context import Outcome
from domain.ticket.commands import (
    CloseTicket,
    OpenTicket,
    ReopenTicket,
    ReplyToTicket,
    ResolveTicket,
)
from domain.ticket.messages import Role
from domain.ticket.sla import Priority
from projections import tickets as view

router = APIRouter(prefix="/tickets", tags=["support"], responses=ERRORS)
_AGENTS = "admin merchant"
RULES = (
    ("POST", "/tickets", f"{_AGENTS} customer:self"),
    ("GET", "/tickets", f"{_AGENTS} customer:mine"),
    ("GET", "/tickets/{}", f"{_AGENTS} customer:own"),
    ("POST", "/tickets/{}/messages", f"{_AGENTS} customer:own"),
    ("POST", "/tickets/{}/resolve", f"{_AGENTS} customer:own"),
    ("POST", "/tickets/{}/reopen", f"{_AGENTS} customer:own"),
    ("POST", "/tickets/{}/close", f"{_AGENTS} customer:own"),
)
OWNED = {"tickets": "ticket_not_found"}
Status = Literal["open", "pending_customer", "resolved", "closed"]

OpenBody = body_of(OpenTicket, path=("role",))
ReplyBody = body_of(ReplyToTicket, path=("ticket_id", "role"))


def role_of(principal: Principal) -> Role:
    """A customer writes as the customer; staff (merchant, admin) as an agent."""
    return "customer" if principal.role == "customer" else "agent"


class TicketAck(Ack):
    id: UUID
    status: Status


class TicketMessage(BaseModel):
    author: str
    role: Role
    text: str
    at: datetime


class TicketSummary(BaseModel):
    id: UUID
    status: Status
    priority: Priority
    customer_id: UUID
    order_id: UUID | None
    chat_id: UUID | None
    subject: str
    opened_at: datetime
    first_response_due: datetime
    sla_breached: bool
    version: int


class Ticket(TicketSummary):
    messages: list[TicketMessage]


def _ack(ticket_id: UUID | str, done: Outcome) -> TicketAck:
    return TicketAck(
        id=ticket_id, status=done.extra["status"], version=done.version, position=done.position
    )


@router.post("", status_code=201, response_model=TicketAck)
def open_ticket(
    body: OpenBody, dispatch: DispatchDep, ctx: ContextDep, principal: PrincipalDep
):  # fmt: skip
    """Open a ticket (``open``) with its first message. An ``order_id`` must name the
    customer's own order (``422 order_not_found`` / ``order_of_another_customer``)."""
    done = dispatch(OpenTicket(**body.fields(), role=role_of(principal)), ctx)
    return _ack(done.extra["id"], done)


@router.post("/{ticket_id}/messages", status_code=201, response_model=TicketAck)
def reply_to_ticket(
    ticket_id: UUID, body: ReplyBody, dispatch: DispatchDep, ctx: ContextDep,
    principal: PrincipalDep,
):  # fmt: skip
    """A message: an agent's with ``awaiting_customer`` moves the ticket to
    ``pending_customer``, a customer's moves it back to ``open``. A resolved or closed ticket
    takes none (``409 ticket_not_active``)."""
    command = ReplyToTicket(ticket_id=ticket_id, **body.fields(), role=role_of(principal))
    return _ack(ticket_id, dispatch(command, ctx))


@router.post("/{ticket_id}/resolve", response_model=TicketAck)
def resolve_ticket(ticket_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    """``open`` → ``resolved`` (a resolved ticket stays so; others: ``409``)."""
    return _ack(ticket_id, dispatch(ResolveTicket(ticket_id=ticket_id), ctx))


@router.post("/{ticket_id}/reopen", response_model=TicketAck)
def reopen_ticket(ticket_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    """``resolved`` → ``open`` within 14 days of the resolution, else
    ``422 reopen_window_closed``; a closed ticket is ``409``."""
    return _ack(ticket_id, dispatch(ReopenTicket(ticket_id=ticket_id), ctx))


@router.post("/{ticket_id}/close", response_model=TicketAck)
def close_ticket(ticket_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    """``resolved`` → ``closed`` (final)."""
    return _ack(ticket_id, dispatch(CloseTicket(ticket_id=ticket_id), ctx))


@router.get("/{ticket_id}", response_model=Ticket, dependencies=[read_model(view.NAME)])
def get_ticket(ticket_id: UUID, container: ContainerDep):
    found = view.get_ticket(container.pool, ticket_id, datetime.now(UTC))
    if found is None:
        raise ApiError(404, "ticket_not_found", f"Ticket {ticket_id} does not exist.")
    return Ticket(**found)


@router.get("", response_model=Page[TicketSummary], dependencies=[read_model(view.NAME)])
def list_tickets(
    container: ContainerDep,
    status: Status | None = None,
    customer_id: UUID | None = None,
    sla_breached: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
):
    """Newest first; ``sla_breached`` as of the time of the request."""
    after = _after(decode_cursor(cursor))
    rows = view.list_tickets(
        container.pool, datetime.now(UTC), status=status, customer_id=customer_id,
        breached=sla_breached, after=after, limit=limit + 1,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows and more else None
    next_cursor = encode_cursor([last["opened_at"].isoformat(), str(last["id"])]) if last else None
    return Page[TicketSummary](items=[TicketSummary(**r) for r in rows], next_cursor=next_cursor)


def _after(key: list[Any] | None) -> tuple[str, str] | None:
    if key is None:
        return None
    try:
        at, ticket = key
        return datetime.fromisoformat(at).isoformat(), str(UUID(ticket))
    except (TypeError, ValueError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None
