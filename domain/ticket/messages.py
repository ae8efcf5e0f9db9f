"""What a message of a ticket or a chat is, and the rules its text follows: at most
``MAX_MESSAGE_CHARS`` characters, not blank. Who wrote it is a role: ``customer`` (the ticket's
or chat's own customer) or ``agent`` (staff: a merchant or an admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.errors import InvalidCommand

MAX_MESSAGE_CHARS = 4000
Role = Literal["customer", "agent"]


class Message(BaseModel):
    """One message as events carry it: who wrote it (the principal's id), in which role, what,
    and when it was written (a transcript keeps the chat's own times)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    author: str
    role: Role
    text: str
    at: datetime


def checked_text(text: str) -> str:
    """``text`` if a message may say it: ``422 message_too_long`` beyond the limit,
    ``422 message_empty`` when blank."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidCommand(
            f"A message is limited to {MAX_MESSAGE_CHARS} characters ({len(text)} given).",
            code="message_too_long",
            details={"limit": MAX_MESSAGE_CHARS, "length": len(text)},
        )
    if not text.strip():
        raise InvalidCommand("A message must say something.", code="message_empty")
    return text
