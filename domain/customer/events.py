"""Events of the Customer stream that the privacy features need (the stream id is the
customer id). ``CustomerForgotten`` is written after the customer's data key is destroyed; read
models apply it to scrub their copies of the customer's personal data."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from domain.events import DomainEvent


class CustomerEvent(DomainEvent):
    stream_type: ClassVar[str] = "customer"


class CustomerForgotten(CustomerEvent):
    forgotten_at: datetime
    forgotten_by: str
    reason: str


CUSTOMER_EVENTS = (CustomerForgotten,)
