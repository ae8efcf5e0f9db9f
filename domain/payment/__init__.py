"""Payment: one stream per order payment: authorizations, captures, voids and refunds."""

from domain.payment.events import PAYMENT_EVENTS
from domain.payment.state import PAYMENT, PaymentState

__all__ = ["PAYMENT", "PAYMENT_EVENTS", "PaymentState"]
