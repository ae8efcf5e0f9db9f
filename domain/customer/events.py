"""Events of the Customer stream (the stream id is the customer id) and of the email claims.

Personal data (email, name, phone, addresses, free-text reasons) is declared per class
(``personal_data_fields``; ``eventstore/privacy.py``) and stored encrypted under the customer's
key: ``CustomerRegistered`` names the customer (``customer_id``) and links the stream to them,
later events use the stream's owner. ``CustomerForgotten`` is written after the key is
destroyed; read models apply it to scrub their copies.

An email is unique through its claim stream (``domain.ids.customer_email_stream``, keyed by the
case-folded address): ``EmailClaimed`` at its next version in the registration's transaction,
``EmailReleased`` when the customer is forgotten (so the address may register again). Neither
holds the address itself."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent
from domain.order.values import Address

Channel = Literal["email", "sms"]
CHANNELS: tuple[str, ...] = ("email", "sms")
#: Whose key protects a later event's personal data: the customer the stream's first event
#: named (``eventstore/privacy.py`` ``STREAM_OWNER``; the domain does not import the store).
STREAM_OWNER = "@stream_owner"
ADDRESS_PARTS = ("name", "line1", "line2", "city", "region", "postal_code")


class CustomerEvent(DomainEvent):
    stream_type: ClassVar[str] = "customer"


class FieldChange(BaseModel):
    """One field's value before and after a change (None: it had none / has none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    old: str | None = None
    new: str | None = None


class CustomerRegistered(CustomerEvent):
    personal_data_fields: ClassVar[tuple[str, ...]] = ("email", "name", "phone")
    personal_data_subject: ClassVar[str] = "customer_id"

    customer_id: UUID
    email: str
    name: str
    phone: str | None = None
    segment: str
    #: The claim stream holding the email's uniqueness (released when forgotten).
    email_claim: UUID
    registered_at: datetime
    registered_by: str


class CustomerProfileUpdated(CustomerEvent):
    """Only the fields that changed, each with its old and new value."""

    personal_data_fields: ClassVar[tuple[str, ...]] = ("name", "phone", "reason")
    personal_data_subject: ClassVar[str] = STREAM_OWNER

    name: FieldChange | None = None
    phone: FieldChange | None = None
    reason: str | None = None
    updated_by: str


class CustomerAddressAdded(CustomerEvent):
    personal_data_fields: ClassVar[tuple[str, ...]] = tuple(f"address.{p}" for p in ADDRESS_PARTS)
    personal_data_subject: ClassVar[str] = STREAM_OWNER

    address_id: UUID
    address: Address
    #: Whether it is the default from now on (a removed or replaced default is implied).
    default_shipping: bool
    default_billing: bool


class CustomerAddressRemoved(CustomerEvent):
    address_id: UUID


class CustomerSegmentAssigned(CustomerEvent):
    old: str | None
    new: str
    assigned_by: str


class CustomerConsentGranted(CustomerEvent):
    channel: Channel
    granted_at: datetime
    #: Who recorded it: the actor of the request (the customer themself, or staff).
    source: str


class CustomerConsentWithdrawn(CustomerEvent):
    channel: Channel
    withdrawn_at: datetime
    source: str


class CustomerBlocked(CustomerEvent):
    personal_data_fields: ClassVar[tuple[str, ...]] = ("reason",)
    personal_data_subject: ClassVar[str] = STREAM_OWNER

    reason: str
    blocked_at: datetime
    blocked_by: str


class CustomerUnblocked(CustomerEvent):
    unblocked_at: datetime
    unblocked_by: str


class CustomerForgotten(CustomerEvent):
    forgotten_at: datetime
    forgotten_by: str
    reason: str


class EmailClaimEvent(DomainEvent):
    stream_type: ClassVar[str] = "customer_email"


class EmailClaimed(EmailClaimEvent):
    customer_id: UUID


class EmailReleased(EmailClaimEvent):
    customer_id: UUID


CUSTOMER_EVENTS = (
    CustomerRegistered,
    CustomerProfileUpdated,
    CustomerAddressAdded,
    CustomerAddressRemoved,
    CustomerSegmentAssigned,
    CustomerConsentGranted,
    CustomerConsentWithdrawn,
    CustomerBlocked,
    CustomerUnblocked,
    CustomerForgotten,
)
EMAIL_CLAIM_EVENTS = (EmailClaimed, EmailReleased)
