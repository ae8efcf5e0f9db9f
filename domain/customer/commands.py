"""The commands on a customer, as messages: for now, forgetting one."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command


class ForgetCustomer(Command):
    """Destroy the customer's data key: their personal data reads as erased everywhere."""

    customer_id: UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "customer_request"
