"""Handlers for the Customer stream: the right to be forgotten.

Forgetting destroys the customer's data key first, then records ``CustomerForgotten``. In that
order a crash in between leaves the data already unreadable, and a retry records the event
(the decision is a no-op only once the event exists).
"""

from __future__ import annotations

from uuid import UUID

from commands.context import CommandContext, Outcome
from commands.executor import execute
from domain.customer.decide import forget as decide_forget
from domain.customer.state import CUSTOMER_PRIVACY
from eventstore.privacy import KeyRing
from eventstore.store import EventStore


def forget(
    store: EventStore,
    keyring: KeyRing,
    ctx: CommandContext,
    *,
    customer_id: UUID,
    reason: str = "customer_request",
) -> Outcome:
    keyring.destroy(customer_id)
    return execute(
        store,
        CUSTOMER_PRIVACY,
        customer_id,
        lambda state, _v: decide_forget(state, at=ctx.now, by=ctx.actor, reason=reason),
        ctx,
    )
