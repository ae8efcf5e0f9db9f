"""The commands on a customer, as messages. Text fields are bounded here and checked by the
decisions (``contact``: email, phone, name; ``segments``), which refuse with precise codes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command
from domain.customer.events import Channel
from domain.order.values import Address

#: Loose bounds: the decisions give the precise refusal (``invalid_email``, ``name_too_long``).
Loose = Annotated[str, Field(max_length=1000)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class RegisterCustomer(Command):
    """A new customer; ``email`` unique case-insensitively, ``phone`` in E.164."""

    email: Loose
    name: Loose
    phone: Loose | None = None
    segment: Loose | None = None


class UpdateProfile(Command):
    """Change the name or the phone (``null`` removes it); each change records old and new."""

    customer_id: UUID
    name: Loose | None = None
    phone: Loose | None = None
    reason: Reason | None = None


class AddAddress(Command):
    """The first address becomes the default for shipping and billing when there is none."""

    customer_id: UUID
    address: Address
    default_shipping: bool = False
    default_billing: bool = False


class RemoveAddress(Command):
    customer_id: UUID
    address_id: UUID


class AssignSegment(Command):
    customer_id: UUID
    segment: Loose


class GrantConsent(Command):
    customer_id: UUID
    channel: Channel


class WithdrawConsent(Command):
    customer_id: UUID
    channel: Channel


class BlockCustomer(Command):
    """A blocked customer cannot order until unblocked."""

    customer_id: UUID
    reason: Reason


class UnblockCustomer(Command):
    customer_id: UUID


class ForgetCustomer(Command):
    """Destroy the customer's data key: their personal data reads as erased everywhere."""

    customer_id: UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "customer_request"
