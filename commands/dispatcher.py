"""The one door commands go through: ``Dispatcher.handle(command, ctx) -> Outcome``.

A route (or a process manager, or the CLI) builds one command message (``domain.command``) and
hands it here with its context; the dispatcher finds the command's handler by its type and
runs it against the write side. Each ``commands/<aggregate>.py`` module lists its handlers in
``HANDLERS`` (command type → function ``(write, command, ctx) -> Outcome``); ``HANDLERS``
below gathers them, so what can be asked of the system is one table, read in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from commands import (
    cancellations,
    categories,
    fulfillment,
    inventory,
    line_edits,
    locations,
    orders,
    payments,
    products,
    returns,
    shipments,
    splits,
)
from commands.context import CommandContext, Outcome
from commands.write_side import WriteSide
from domain.command import Command

Handler = Callable[[WriteSide, Any, CommandContext], Outcome]

#: Every command type the system takes, with its handler.
HANDLERS: Mapping[type[Command], Handler] = {
    **inventory.HANDLERS,
    **products.HANDLERS,
    **categories.HANDLERS,
    **line_edits.HANDLERS,
    **payments.HANDLERS,
    **returns.HANDLERS,
    **shipments.HANDLERS,
    **cancellations.HANDLERS,
    **splits.HANDLERS,
    **fulfillment.HANDLERS,
    **orders.HANDLERS,
    **locations.HANDLERS,
}


class UnknownCommand(LookupError):
    """A command type no module handles: a programming error, never a client's."""


class Dispatcher:
    def __init__(self, write: WriteSide, handlers: Mapping[type[Command], Handler] = HANDLERS):
        self.write = write
        self._handlers = dict(handlers)

    def handle(self, command: Command, ctx: CommandContext) -> Outcome:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(f"No handler takes {type(command).__name__}.")
        return handler(self.write, command, ctx)
