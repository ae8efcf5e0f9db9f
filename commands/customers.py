"""Handlers for the Customer stream: the right to be forgotten.

Forgetting destroys the customer's data key first (the write side's key ring), then records
``CustomerForgotten``. In that order a crash in between leaves the data already unreadable,
and a retry records the event (the decision is a no-op only once the event exists).
"""

from __future__ import annotations

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.customer.commands import ForgetCustomer
from domain.customer.decide import forget as decide_forget
from domain.customer.state import CUSTOMER_PRIVACY


def forget(w: WriteSide, c: ForgetCustomer, ctx: CommandContext) -> Outcome:
    if w.keyring is None:  # the API answers 503 before it gets here
        raise RuntimeError("No key ring is configured: a customer cannot be forgotten.")
    w.keyring.destroy(c.customer_id)
    return execute(
        w.store,
        CUSTOMER_PRIVACY,
        c.customer_id,
        lambda state, _v: decide_forget(state, c, ctx.now, by=ctx.actor),
        ctx,
    )


HANDLERS = {ForgetCustomer: forget}
