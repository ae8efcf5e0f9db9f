"""The commands on a merchant, as messages: register, the review transitions, and changing
the commission rate. Bounds a decision can name precisely (the rate's 0–100, the email's
form) are checked there, not here, so the refusal carries its own code."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from domain.command import Command

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
#: A decimal string, as money amounts are (never a float): its range is the decision's check.
Percent = Annotated[str, Field(pattern=r"^-?[0-9]{1,3}(\.[0-9]{1,4})?$", examples=["12.5"])]
Transition = Literal["review", "approve", "reject", "suspend", "reinstate"]


class RegisterMerchant(Command):
    name: Name
    email: Annotated[str, Field(min_length=1, max_length=320)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    commission_percent: Percent


class MoveMerchant(Command):
    """One review transition (``review``, ``approve``, ``reject``, ``suspend``, ``reinstate``)."""

    merchant_id: UUID
    transition: Transition
    reason: Reason | None = None


class ChangeCommission(Command):
    merchant_id: UUID
    commission_percent: Percent
    reason: Reason
