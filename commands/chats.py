"""The Chat's command handlers. Escalation writes the chat's ``ChatEscalated`` and the new
ticket's ``TicketOpened`` (the transcript) in one transaction; the ticket's id is derived from
the chat's, so two escalations racing meet on the ticket stream and the loser, decided again,
finds the chat escalated and names the same ticket (``extra``: ``ticket_id``, ``created``)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.order_owner import order_owner
from commands.write_side import WriteSide
from domain.chat import decide as d
from domain.chat.commands import EscalateChat, PostChatMessage, StartChat
from domain.chat.state import CHAT, ChatState
from domain.ticket.events import TicketOpened
from eventstore.store import StreamAppend

_ESCALATION = uuid5(NAMESPACE_URL, "ecom:chat-escalation")


def ticket_of_chat(chat_id: UUID) -> UUID:
    """The id of the ticket a chat is escalated to (one per chat)."""
    return uuid5(_ESCALATION, str(chat_id))


def start(w: WriteSide, c: StartChat, ctx: CommandContext) -> Outcome:
    chat_id = uuid4()
    owner = order_owner(w.store, c.order_id)

    def decide(state: ChatState, _version: int):
        events = d.start_chat(state, c, by=ctx.actor, now=ctx.now, order_owner=owner)
        return events, {"id": str(chat_id)}

    return execute(w.store, CHAT, chat_id, decide, ctx)


def post(w: WriteSide, c: PostChatMessage, ctx: CommandContext) -> Outcome:
    def decide(state: ChatState, version: int):
        return d.post(state, c, by=ctx.actor, now=ctx.now), {"seq": version + 1}

    return execute(w.store, CHAT, c.chat_id, decide, ctx)


def escalate(w: WriteSide, c: EscalateChat, ctx: CommandContext) -> Outcome:
    ticket_id = ticket_of_chat(c.chat_id)
    opened: list[TicketOpened] = []

    def decide(state: ChatState, _version: int):
        events, ticket = d.escalate(state, c, ticket_id=ticket_id, by=ctx.actor, now=ctx.now)
        opened[:] = [ticket] if ticket is not None else []
        return events, {"ticket_id": str(state.ticket_id or ticket_id), "created": bool(events)}

    def also(_state: ChatState, _events) -> list[StreamAppend]:  # noqa: ANN001
        return [StreamAppend(ticket_id, 0, opened)] if opened else []

    return execute(w.store, CHAT, c.chat_id, decide, ctx, also=also)


HANDLERS = {StartChat: start, PostChatMessage: post, EscalateChat: escalate}
