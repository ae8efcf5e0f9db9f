"""Handlers for the Customer stream (``HANDLERS``).

Registration claims the email (its claim stream, keyed by the case-folded address) in the same
transaction as ``CustomerRegistered``: of two concurrent registrations of one address, the second
append fails on the claim's version, is decided again and finds the address taken
(``409 email_taken``).

Forgetting destroys the customer's data key first (the write side's key ring), then records
``CustomerForgotten`` and releases the email's claim. In that order a crash in between leaves
the data already unreadable, and a retry records the event (the decision is a no-op only once
the event exists).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.products import at_own_stream
from commands.write_side import WriteSide
from domain.customer import commands as cmd
from domain.customer import decide
from domain.customer.contact import email_key
from domain.customer.events import CustomerForgotten, EmailClaimed, EmailReleased
from domain.customer.state import CUSTOMER, EMAIL_CLAIM, CustomerState
from domain.errors import Conflict, NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.ids import customer_email_stream
from eventstore.store import StreamAppend


def register(w: WriteSide, c: cmd.RegisterCustomer, ctx: CommandContext) -> Outcome:
    """A new customer under a new id (``extra["id"]``)."""
    customer_id = uuid4()
    claim_stream = customer_email_stream(email_key(c.email))

    def decision(state: CustomerState, _v: int):
        events = decide.register(
            state, c, ctx.now, customer_id=customer_id, email_claim=claim_stream, by=ctx.actor
        )
        return events, {"id": str(customer_id)}

    def claim(_state: CustomerState, _events: Sequence[DomainEvent]) -> list[StreamAppend]:
        held = load(w.store, EMAIL_CLAIM, claim_stream)
        if held.state.holder is not None:
            raise Conflict("This email is already registered.", code="email_taken")
        return [StreamAppend(claim_stream, held.version, [EmailClaimed(customer_id=customer_id)])]

    result = execute(w.store, CUSTOMER, customer_id, decision, ctx, also=claim)
    return at_own_stream(w.store, result)


def _on_customer(
    w: WriteSide,
    ctx: CommandContext,
    customer_id: UUID,
    decision: Callable[[CustomerState], list[DomainEvent] | tuple],
) -> Outcome:
    """A decision on an existing customer; an unknown one is not found even under If-Match."""
    try:
        return execute(w.store, CUSTOMER, customer_id, lambda s, _v: decision(s), ctx)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound(
                f"Customer {customer_id} does not exist.", code="customer_not_found"
            ) from None
        raise


def update_profile(w: WriteSide, c: cmd.UpdateProfile, ctx: CommandContext) -> Outcome:
    return _on_customer(w, ctx, c.customer_id, lambda s: decide.update_profile(s, c, by=ctx.actor))


def add_address(w: WriteSide, c: cmd.AddAddress, ctx: CommandContext) -> Outcome:
    """A new address id, made here and answered (``extra["address_id"]``)."""
    address_id = uuid4()
    return _on_customer(
        w,
        ctx,
        c.customer_id,
        lambda s: (
            decide.add_address(s, c, address_id=address_id),
            {"address_id": str(address_id)},
        ),
    )


def remove_address(w: WriteSide, c: cmd.RemoveAddress, ctx: CommandContext) -> Outcome:
    return _on_customer(w, ctx, c.customer_id, lambda s: decide.remove_address(s, c))


def assign_segment(w: WriteSide, c: cmd.AssignSegment, ctx: CommandContext) -> Outcome:
    return _on_customer(w, ctx, c.customer_id, lambda s: decide.assign_segment(s, c, by=ctx.actor))


def grant_consent(w: WriteSide, c: cmd.GrantConsent, ctx: CommandContext) -> Outcome:
    return _on_customer(
        w, ctx, c.customer_id, lambda s: decide.grant_consent(s, c, ctx.now, by=ctx.actor)
    )


def withdraw_consent(w: WriteSide, c: cmd.WithdrawConsent, ctx: CommandContext) -> Outcome:
    return _on_customer(
        w, ctx, c.customer_id, lambda s: decide.withdraw_consent(s, c, ctx.now, by=ctx.actor)
    )


def block(w: WriteSide, c: cmd.BlockCustomer, ctx: CommandContext) -> Outcome:
    return _on_customer(w, ctx, c.customer_id, lambda s: decide.block(s, c, ctx.now, by=ctx.actor))


def unblock(w: WriteSide, c: cmd.UnblockCustomer, ctx: CommandContext) -> Outcome:
    return _on_customer(
        w, ctx, c.customer_id, lambda s: decide.unblock(s, c, ctx.now, by=ctx.actor)
    )


def forget(w: WriteSide, c: cmd.ForgetCustomer, ctx: CommandContext) -> Outcome:
    if w.keyring is None:  # the API answers 503 before it gets here
        raise RuntimeError("No key ring is configured: a customer cannot be forgotten.")
    w.keyring.destroy(c.customer_id)

    def release(state: CustomerState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        if state.email_claim is None or not any(isinstance(e, CustomerForgotten) for e in events):
            return []
        held = load(w.store, EMAIL_CLAIM, state.email_claim)
        if held.state.holder != c.customer_id:
            return []
        released = [EmailReleased(customer_id=c.customer_id)]
        return [StreamAppend(state.email_claim, held.version, released)]

    result = execute(
        w.store,
        CUSTOMER,
        c.customer_id,
        lambda state, _v: decide.forget(state, c, ctx.now, by=ctx.actor),
        ctx,
        also=release,
    )
    return at_own_stream(w.store, result)


HANDLERS = {
    cmd.RegisterCustomer: register,
    cmd.UpdateProfile: update_profile,
    cmd.AddAddress: add_address,
    cmd.RemoveAddress: remove_address,
    cmd.AssignSegment: assign_segment,
    cmd.GrantConsent: grant_consent,
    cmd.WithdrawConsent: withdraw_consent,
    cmd.BlockCustomer: block,
    cmd.UnblockCustomer: unblock,
    cmd.ForgetCustomer: forget,
}
