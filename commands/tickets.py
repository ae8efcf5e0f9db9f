"""The Ticket's command handlers: each loads the ticket, decides with ``ctx.now`` and the
caller (``ctx.actor``) and appends (``commands.executor.execute``). An order a new ticket names
is checked against the order's own stream (``commands.order_owner``)."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.order_owner import order_owner
from commands.write_side import WriteSide
from domain.ticket import decide as d
from domain.ticket.commands import (
    CloseTicket,
    OpenTicket,
    ReopenTicket,
    ReplyToTicket,
    ResolveTicket,
)
from domain.ticket.state import TICKET, TicketState


def open_ticket(w: WriteSide, c: OpenTicket, ctx: CommandContext) -> Outcome:
    """A new ticket under a new id, answered in ``extra`` (with its status)."""
    ticket_id = uuid4()
    owner = order_owner(w.store, c.order_id)

    def decide(state: TicketState, _version: int):
        events = d.open_ticket(state, c, by=ctx.actor, now=ctx.now, order_owner=owner)
        return events, {"id": str(ticket_id), "status": "open"}

    return execute(w.store, TICKET, ticket_id, decide, ctx)


def _status(events: list, state: TicketState) -> dict:
    return {"status": TICKET.fold(events, state).status}


def reply(w: WriteSide, c: ReplyToTicket, ctx: CommandContext) -> Outcome:
    def decide(state: TicketState, _version: int):
        events = d.reply(state, c, by=ctx.actor, now=ctx.now)
        return events, _status(events, state)

    return execute(w.store, TICKET, c.ticket_id, decide, ctx)


def resolve(w: WriteSide, c: ResolveTicket, ctx: CommandContext) -> Outcome:
    def decide(state: TicketState, _version: int):
        events = d.resolve(state, c, by=ctx.actor, now=ctx.now)
        return events, _status(events, state)

    return execute(w.store, TICKET, c.ticket_id, decide, ctx)


def reopen(w: WriteSide, c: ReopenTicket, ctx: CommandContext) -> Outcome:
    def decide(state: TicketState, _version: int):
        events = d.reopen(state, c, by=ctx.actor, now=ctx.now)
        return events, _status(events, state)

    return execute(w.store, TICKET, c.ticket_id, decide, ctx)


def close(w: WriteSide, c: CloseTicket, ctx: CommandContext) -> Outcome:
    def decide(state: TicketState, _version: int):
        events = d.close(state, c, by=ctx.actor)
        return events, _status(events, state)

    return execute(w.store, TICKET, c.ticket_id, decide, ctx)


HANDLERS = {
    OpenTicket: open_ticket,
    ReplyToTicket: reply,
    ResolveTicket: resolve,
    ReopenTicket: reopen,
    CloseTicket: close,
}
