"""The dispatcher's table: every command of the orders, customers, locations and payments areas
has a handler, so a route that dispatches one never meets ``UnknownCommand``."""

from __future__ import annotations

import inspect

import pytest

from composition.bootstrap import CAPABILITIES
from composition.capabilities import combine
from domain.command import Command
from domain.customer import commands as customer_commands
from domain.location import commands as location_commands
from domain.order import commands as order_commands
from domain.payment import commands as payment_commands

HANDLERS = combine(CAPABILITIES).handlers  # the core's table and the capabilities'


def _commands(module) -> list[type[Command]]:  # noqa: ANN001
    return [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, Command) and c is not Command and c.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "command",
    [
        *_commands(order_commands),
        *_commands(customer_commands),
        *_commands(location_commands),
        *_commands(payment_commands),
    ],
    ids=lambda c: c.__name__,
)
def test_every_command_has_a_handler_that_takes_write_command_and_context(command):
    handler = HANDLERS[command]
    first_three = list(inspect.signature(handler).parameters)[:3]
    assert first_three == ["w", "c", "ctx"]
