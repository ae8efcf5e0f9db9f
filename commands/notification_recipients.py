"""Whom a notification goes to, decided from the write side: the Customer stream folded to
what a message needs (standing, email, phone, name, the channels consented to), never the
customers view. The fold holds personal data, so it is not cached: a forget must reach nothing
but the log, whose key it destroys (the fold then reads ``[erased]`` and the customer is
``forgotten``).

``recipients`` answers the (channel, address) pairs a customer is told by: a registered,
unforgotten customer by each channel they consented to and have an address for; a guest (a
``customer_id`` never registered) by email only, when the order carries ``contact_email``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from commands.stream_states import load_states
from domain.aggregate import AggregateType
from domain.customer import events as ev
from domain.events import DomainEvent
from eventstore.store import EventStore


@dataclass(frozen=True, slots=True)
class Contact:
    registered: bool = False
    status: str = "active"
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    consents: frozenset[str] = frozenset()


def evolve_contact(state: Contact, event: DomainEvent) -> Contact:
    match event:
        case ev.CustomerRegistered():
            return replace(
                state, registered=True, email=event.email, phone=event.phone, name=event.name
            )
        case ev.CustomerProfileUpdated(name=name, phone=phone):
            if name is not None:
                state = replace(state, name=name.new)
            if phone is not None:
                state = replace(state, phone=phone.new)
            return state
        case ev.CustomerConsentGranted(channel=channel):
            return replace(state, consents=state.consents | {channel})
        case ev.CustomerConsentWithdrawn(channel=channel):
            return replace(state, consents=state.consents - {channel})
        case ev.CustomerBlocked():
            return replace(state, status="blocked")
        case ev.CustomerUnblocked():
            return replace(state, status="active")
        case ev.CustomerForgotten():
            return replace(state, status="forgotten", email=None, phone=None, name=None)
    return state


CONTACT = AggregateType("customer", Contact, evolve_contact, ev.CUSTOMER_EVENTS)


def contact_of(store: EventStore, customer_id: UUID) -> Contact:
    return load_states(store, CONTACT, [customer_id])[customer_id].state


def recipients(contact: Contact, contact_email: str | None) -> list[tuple[str, str]]:
    """(channel, address) for each channel the customer is told by."""
    if not contact.registered:
        return [("email", contact_email)] if contact_email else []
    if contact.status == "forgotten":
        return []
    out = []
    if "email" in contact.consents and contact.email:
        out.append(("email", contact.email))
    if "sms" in contact.consents and contact.phone:
        out.append(("sms", contact.phone))
    return out
