"""The Customer stream's decision state and its evolution (the decisions are in ``decide``),
and ``CustomerStanding``: the part other decisions need (registered, status, segment), folded
without any personal data so that a cache of it holds nothing a forget must reach. The email
claim's state (who holds the address now) is ``EmailClaimState``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from domain.aggregate import AggregateType
from domain.customer import events as ev
from domain.events import DomainEvent

ACTIVE, BLOCKED, FORGOTTEN = "active", "blocked", "forgotten"


@dataclass(frozen=True, slots=True)
class CustomerState:
    registered: bool = False
    #: ``active``, ``blocked`` or ``forgotten`` (terminal).
    status: str = ACTIVE
    email_claim: UUID | None = None
    name: str | None = None
    phone: str | None = None
    segment: str | None = None
    addresses: tuple[UUID, ...] = ()
    default_shipping: UUID | None = None
    default_billing: UUID | None = None
    consents: frozenset[str] = frozenset()  # the channels consented to

    @property
    def forgotten(self) -> bool:
        return self.status == FORGOTTEN


def _removed(state: CustomerState, address_id: UUID) -> CustomerState:
    return replace(
        state,
        addresses=tuple(a for a in state.addresses if a != address_id),
        default_shipping=None if state.default_shipping == address_id else state.default_shipping,
        default_billing=None if state.default_billing == address_id else state.default_billing,
    )


def evolve(state: CustomerState, event: DomainEvent) -> CustomerState:
    match event:
        case ev.CustomerRegistered():
            return replace(
                state,
                registered=True,
                email_claim=event.email_claim,
                name=event.name,
                phone=event.phone,
                segment=event.segment,
            )
        case ev.CustomerProfileUpdated(name=name, phone=phone):
            if name is not None:
                state = replace(state, name=name.new)
            if phone is not None:
                state = replace(state, phone=phone.new)
            return state
        case ev.CustomerAddressAdded(address_id=aid):
            return replace(
                state,
                addresses=(*state.addresses, aid),
                default_shipping=aid if event.default_shipping else state.default_shipping,
                default_billing=aid if event.default_billing else state.default_billing,
            )
        case ev.CustomerAddressRemoved(address_id=aid):
            return _removed(state, aid)
        case ev.CustomerSegmentAssigned(new=segment):
            return replace(state, segment=segment)
        case ev.CustomerConsentGranted(channel=channel):
            return replace(state, consents=state.consents | {channel})
        case ev.CustomerConsentWithdrawn(channel=channel):
            return replace(state, consents=state.consents - {channel})
        case ev.CustomerBlocked():
            return replace(state, status=BLOCKED)
        case ev.CustomerUnblocked():
            return replace(state, status=ACTIVE)
        case ev.CustomerForgotten():
            return replace(state, status=FORGOTTEN)
    return state


CUSTOMER = AggregateType("customer", CustomerState, evolve, ev.CUSTOMER_EVENTS)


@dataclass(frozen=True, slots=True)
class CustomerStanding:
    """What placement, pricing and promotions decide with; no personal data."""

    registered: bool = False
    status: str = ACTIVE
    segment: str | None = None


def evolve_standing(state: CustomerStanding, event: DomainEvent) -> CustomerStanding:
    match event:
        case ev.CustomerRegistered(segment=segment):
            return replace(state, registered=True, segment=segment)
        case ev.CustomerSegmentAssigned(new=segment):
            return replace(state, segment=segment)
        case ev.CustomerBlocked():
            return replace(state, status=BLOCKED)
        case ev.CustomerUnblocked():
            return replace(state, status=ACTIVE)
        case ev.CustomerForgotten():
            return replace(state, status=FORGOTTEN)
    return state


CUSTOMER_STANDING = AggregateType("customer", CustomerStanding, evolve_standing, ev.CUSTOMER_EVENTS)


@dataclass(frozen=True, slots=True)
class EmailClaimState:
    holder: UUID | None = None


def evolve_claim(state: EmailClaimState, event: DomainEvent) -> EmailClaimState:
    match event:
        case ev.EmailClaimed(customer_id=customer_id):
            return EmailClaimState(holder=customer_id)
        case ev.EmailReleased():
            return EmailClaimState(holder=None)
    return state


EMAIL_CLAIM = AggregateType("customer_email", EmailClaimState, evolve_claim, ev.EMAIL_CLAIM_EVENTS)
