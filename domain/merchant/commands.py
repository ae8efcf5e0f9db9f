"""The commands on a merchant, as messages: register, the review transitions, and changing
the commission rate. Bounds a decision can name precisely (the rate's 0–100, the email's
form) are checked there, not here, so the refusal carries its own code."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from domain.command import Command

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Percent = Annotated[Decimal, Field(max_digits=12, decimal_places=4, allow_inf_nan=False)]
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
