"""The payment gateway port and its built-in sandbox adapter.

The sandbox's answer depends on the card token: ``tok_visa`` approves, ``tok_declined``
declines, ``tok_flaky`` fails transiently twice then approves, ``tok_slow`` answers after the
caller's timeout. Every call carries an idempotency key, and a repeated key returns the first
final answer without charging again, as a real gateway does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol
from uuid import uuid5

from domain.ids import NAMESPACE

Outcome = Literal["approved", "declined"]


class GatewayTransientError(Exception):
    """Worth retrying with the same idempotency key."""


class GatewayTimeout(Exception):
    """No answer within the time allowed; treated as a failure."""


@dataclass(frozen=True, slots=True)
class GatewayAnswer:
    outcome: Outcome
    reference: str
    reason: str = ""


class PaymentGateway(Protocol):
    name: str

    def authorize(
        self, key: str, token: str, amount: Decimal, currency: str, timeout_s: float
    ) -> GatewayAnswer: ...

    def capture(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer: ...

    def void(self, key: str, authorization_ref: str) -> GatewayAnswer: ...

    def refund(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer: ...


class SandboxGateway:
    name = "sandbox"

    def __init__(self, slow_delay_s: float = 0.0):
        self._answers: dict[str, GatewayAnswer] = {}
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.slow_delay_s = slow_delay_s
        self.charges = 0  # how many authorizations were actually approved (for tests)

    def _reference(self, key: str) -> str:
        return f"sbx_{uuid5(NAMESPACE, key).hex[:20]}"

    def authorize(
        self, key: str, token: str, amount: Decimal, currency: str, timeout_s: float
    ) -> GatewayAnswer:
        with self._lock:
            if key in self._answers:
                return self._answers[key]
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
        if token == "tok_slow":
            time.sleep(min(self.slow_delay_s, timeout_s))
            raise GatewayTimeout(f"no answer within {timeout_s}s")
        if token == "tok_flaky" and attempt <= 2:
            raise GatewayTransientError("sandbox: transient failure")
        if token in ("tok_visa", "tok_flaky", "tok_mastercard"):
            answer = GatewayAnswer("approved", self._reference(key))
        elif token == "tok_declined":
            answer = GatewayAnswer("declined", self._reference(key), "card_declined")
        else:
            answer = GatewayAnswer("declined", self._reference(key), "unknown_token")
        with self._lock:
            first = self._answers.setdefault(key, answer)
            if first is answer and answer.outcome == "approved":
                self.charges += 1
        return first

    def _simple(self, key: str) -> GatewayAnswer:
        with self._lock:
            return self._answers.setdefault(key, GatewayAnswer("approved", self._reference(key)))

    def capture(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        return self._simple(key)

    def void(self, key: str, authorization_ref: str) -> GatewayAnswer:
        return self._simple(key)

    def refund(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        return self._simple(key)
