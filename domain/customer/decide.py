"""The decisions on a customer: each takes the state, the command, the time and who decides,
and returns the events ([] when nothing changes) or raises a named error with its code.

Status: ``active`` ⇄ ``blocked`` → ``forgotten`` (terminal: every command but forget is then
``409 customer_forgotten``). An id never registered is ``404 customer_not_found`` (forgetting
it still works: a guest's orders carry personal data too)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.customer import commands as cmd
from domain.customer import events as ev
from domain.customer.contact import valid_email, valid_name, valid_phone
from domain.customer.segments import DEFAULT_SEGMENT, SEGMENTS
from domain.customer.state import BLOCKED, CustomerState
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent

MAX_ADDRESSES = 20


def valid_segment(segment: str) -> str:
    if segment not in SEGMENTS:
        raise InvalidCommand(
            f"Unknown segment '{segment}'.",
            code="unknown_segment",
            details={"field": "segment", "allowed": list(SEGMENTS)},
        )
    return segment


def _live(state: CustomerState, customer_id: UUID) -> CustomerState:
    if state.forgotten:
        raise Conflict(f"Customer {customer_id} was forgotten.", code="customer_forgotten")
    if not state.registered:
        raise NotFound(f"Customer {customer_id} does not exist.", code="customer_not_found")
    return state


def register(
    state: CustomerState,
    c: cmd.RegisterCustomer,
    now: datetime,
    *,
    customer_id: UUID,
    email_claim: UUID,
    by: str,
) -> list[DomainEvent]:
    """Validated in full before anything is written; the email's claim is the handler's."""
    email, name = valid_email(c.email), valid_name(c.name)
    phone = valid_phone(c.phone) if c.phone is not None else None
    segment = valid_segment(c.segment) if c.segment is not None else DEFAULT_SEGMENT
    if state.registered or state.forgotten:
        raise Conflict(f"Customer {customer_id} exists already.", code="customer_exists")
    return [
        ev.CustomerRegistered(
            customer_id=customer_id,
            email=email,
            name=name,
            phone=phone,
            segment=segment,
            email_claim=email_claim,
            registered_at=now,
            registered_by=by,
        )
    ]


def update_profile(state: CustomerState, c: cmd.UpdateProfile, *, by: str) -> list[DomainEvent]:
    """Only fields sent and different are recorded; ``phone: null`` removes the phone."""
    given = c.model_fields_set
    name = valid_name(c.name) if "name" in given and c.name is not None else None
    if "name" in given and c.name is None:
        raise InvalidCommand("A customer keeps a name.", code="invalid_name")
    phone = valid_phone(c.phone) if c.phone is not None else None
    _live(state, c.customer_id)
    name_change = (
        ev.FieldChange(old=state.name, new=name)
        if name is not None and name != state.name
        else None
    )
    phone_change = (
        ev.FieldChange(old=state.phone, new=phone)
        if "phone" in given and phone != state.phone
        else None
    )
    if name_change is None and phone_change is None:
        return []
    return [
        ev.CustomerProfileUpdated(
            name=name_change, phone=phone_change, reason=c.reason, updated_by=by
        )
    ]


def add_address(state: CustomerState, c: cmd.AddAddress, *, address_id: UUID) -> list[DomainEvent]:
    valid_name(c.address.name)
    _live(state, c.customer_id)
    if len(state.addresses) >= MAX_ADDRESSES:
        raise InvalidCommand(
            f"A customer keeps at most {MAX_ADDRESSES} addresses.", code="too_many_addresses"
        )
    return [
        ev.CustomerAddressAdded(
            address_id=address_id,
            address=c.address,
            default_shipping=c.default_shipping or state.default_shipping is None,
            default_billing=c.default_billing or state.default_billing is None,
        )
    ]


def remove_address(state: CustomerState, c: cmd.RemoveAddress) -> list[DomainEvent]:
    if c.address_id not in _live(state, c.customer_id).addresses:
        raise NotFound(f"Address {c.address_id} is not the customer's.", code="address_not_found")
    return [ev.CustomerAddressRemoved(address_id=c.address_id)]


def assign_segment(state: CustomerState, c: cmd.AssignSegment, *, by: str) -> list[DomainEvent]:
    segment = valid_segment(c.segment)
    if _live(state, c.customer_id).segment == segment:
        return []
    return [ev.CustomerSegmentAssigned(old=state.segment, new=segment, assigned_by=by)]


def grant_consent(
    state: CustomerState, c: cmd.GrantConsent, now: datetime, *, by: str
) -> list[DomainEvent]:
    if c.channel in _live(state, c.customer_id).consents:
        return []
    return [ev.CustomerConsentGranted(channel=c.channel, granted_at=now, source=by)]


def withdraw_consent(
    state: CustomerState, c: cmd.WithdrawConsent, now: datetime, *, by: str
) -> list[DomainEvent]:
    if c.channel not in _live(state, c.customer_id).consents:
        return []
    return [ev.CustomerConsentWithdrawn(channel=c.channel, withdrawn_at=now, source=by)]


def block(
    state: CustomerState, c: cmd.BlockCustomer, now: datetime, *, by: str
) -> list[DomainEvent]:
    if _live(state, c.customer_id).status == BLOCKED:
        return []
    return [ev.CustomerBlocked(reason=c.reason, blocked_at=now, blocked_by=by)]


def unblock(
    state: CustomerState, c: cmd.UnblockCustomer, now: datetime, *, by: str
) -> list[DomainEvent]:
    if _live(state, c.customer_id).status != BLOCKED:
        return []
    return [ev.CustomerUnblocked(unblocked_at=now, unblocked_by=by)]


def forget(
    state: CustomerState, c: cmd.ForgetCustomer, now: datetime, *, by: str
) -> list[DomainEvent]:
    """Forgetting twice is a no-op: the key is gone and the views were scrubbed the first time."""
    if state.forgotten:
        return []
    return [ev.CustomerForgotten(forgotten_at=now, forgotten_by=by, reason=c.reason)]
