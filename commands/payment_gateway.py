"""The payment gateway port and its built-in sandbox adapter.

The sandbox's answer depends on the card token: ``tok_visa`` approves, ``tok_declined``
declines, ``tok_flaky`` fails transiently twice then approves, ``tok_slow`` answers after the
caller's timeout, ``tok_refund_fails`` approves and captures but every void or refund of that
authorization fails transiently, for ever (its reference says so, so this survives a restart).
Every call carries an idempotency key, and a repeated key returns the first final answer
without charging again, as a real gateway does.

The sandbox also answers a batch at once (``authorize_at_once``: one write of its memory for
every card whose answer does not depend on the attempt); the placement saga uses it when a
gateway has it, and asks the rest one by one, concurrently, as it asks a gateway that has not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol
from uuid import uuid5

from domain.ids import NAMESPACE

Outcome = Literal["approved", "declined"]
#: The reference prefix of a ``tok_refund_fails`` authorization.
UNWIND_FAILS = "sbx_rf_"


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


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One authorization of a batch (``authorize_at_once``)."""

    key: str
    token: str
    amount: Decimal
    currency: str


class AnswerMemory(Protocol):
    """Where a gateway keeps its first answer per idempotency key."""

    def get(self, key: str) -> GatewayAnswer | None: ...

    def keep(
        self, key: str, operation: str, answer: GatewayAnswer, amount: Decimal | None
    ) -> GatewayAnswer:
        """Store ``answer`` unless the key has one already; return the one kept."""
        ...

    def keep_first(
        self, key: str, operation: str, answer: GatewayAnswer, amount: Decimal | None
    ) -> tuple[GatewayAnswer, bool]:
        """``keep``, and whether ``answer`` is the one kept, now (not an earlier answer)."""
        ...

    def keep_many(
        self, operation: str, answers: Sequence[tuple[str, GatewayAnswer, Decimal | None]]
    ) -> dict[str, tuple[GatewayAnswer, bool]]:
        """``keep_first`` for (key, answer, amount) triples with distinct keys, by key."""
        ...


class InMemoryAnswers:
    def __init__(self) -> None:
        self._answers: dict[str, GatewayAnswer] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> GatewayAnswer | None:
        return self._answers.get(key)

    def keep(self, key, operation, answer, amount):  # noqa: ANN001
        return self.keep_first(key, operation, answer, amount)[0]

    def keep_first(self, key, operation, answer, amount):  # noqa: ANN001
        with self._lock:
            first = self._answers.setdefault(key, answer)
            return first, first is answer

    def keep_many(self, operation, answers):  # noqa: ANN001
        return {key: self.keep_first(key, operation, a, amount) for key, a, amount in answers}


_ANSWER = "SELECT outcome, reference, reason FROM gateway_idempotency WHERE key = %s"
#: Answers kept in one statement: those kept now, and those kept before (read in the same
#: statement's snapshot; a key another transaction kept meanwhile is missing, read anew).
_KEEP_MANY = """
WITH asked AS (
    SELECT * FROM unnest(%(keys)s::text[], %(outcomes)s::text[], %(references)s::text[],
                         %(reasons)s::text[], %(amounts)s::numeric[])
           AS a(key, outcome, reference, reason, amount)
), kept AS (
    INSERT INTO gateway_idempotency (key, operation, outcome, reference, reason, amount)
    SELECT key, %(operation)s, outcome, reference, reason, amount FROM asked ORDER BY key
    ON CONFLICT (key) DO NOTHING
    RETURNING key, outcome, reference, reason
)
SELECT key, outcome, reference, reason, true FROM kept
UNION ALL
SELECT g.key, g.outcome, g.reference, g.reason, false
  FROM gateway_idempotency g JOIN asked USING (key)
 WHERE NOT EXISTS (SELECT FROM kept WHERE kept.key = g.key)"""


class PostgresAnswers:
    """The sandbox's memory in table ``gateway_idempotency`` (migration 004): it survives a
    restart, as a real gateway's does."""

    def __init__(self, pool):  # noqa: ANN001
        self.pool = pool

    def get(self, key: str) -> GatewayAnswer | None:
        with self.pool.connection() as conn:
            row = conn.execute(_ANSWER, (key,)).fetchone()
        return None if row is None else GatewayAnswer(*row)

    def keep(self, key, operation, answer, amount):  # noqa: ANN001
        return self.keep_first(key, operation, answer, amount)[0]

    def keep_first(self, key, operation, answer, amount):  # noqa: ANN001
        return self.keep_many(operation, [(key, answer, amount)])[key]

    def keep_many(self, operation, answers):  # noqa: ANN001
        if not answers:
            return {}
        with self.pool.connection() as conn:
            rows = conn.execute(
                _KEEP_MANY,
                {
                    "keys": [key for key, _, _ in answers],
                    "outcomes": [a.outcome for _, a, _ in answers],
                    "references": [a.reference for _, a, _ in answers],
                    "reasons": [a.reason for _, a, _ in answers],
                    "amounts": [amount for _, _, amount in answers],
                    "operation": operation,
                },
            ).fetchall()
            out = {r[0]: (GatewayAnswer(*r[1:4]), r[4]) for r in rows}
            for key, _, _ in answers:
                if key not in out:
                    out[key] = (GatewayAnswer(*conn.execute(_ANSWER, (key,)).fetchone()), False)
        return out


#: Tokens whose answer depends on the attempt (a timeout, transient failures first): a
#: repeat looks for a kept answer before trying.
_BY_ATTEMPT = frozenset({"tok_slow", "tok_flaky"})


class SandboxGateway:
    name = "sandbox"

    def __init__(self, slow_delay_s: float = 0.0, memory: AnswerMemory | None = None):
        self.memory: AnswerMemory = memory or InMemoryAnswers()
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.slow_delay_s = slow_delay_s
        self.charges = 0  # how many authorizations were actually approved (for tests)
        self.unwind_failures = 0  # voids and refunds refused for ``tok_refund_fails``

    def _reference(self, key: str, prefix: str = "sbx_") -> str:
        return f"{prefix}{uuid5(NAMESPACE, key).hex[:20]}"

    def authorize(
        self, key: str, token: str, amount: Decimal, currency: str, timeout_s: float
    ) -> GatewayAnswer:
        if token in _BY_ATTEMPT:  # an answer kept before stands; else this attempt's
            known = self.memory.get(key)
            if known is not None:
                return known
            with self._lock:
                attempt = self._attempts.get(key, 0) + 1
                self._attempts[key] = attempt
            if token == "tok_slow":
                time.sleep(min(self.slow_delay_s, timeout_s))
                raise GatewayTimeout(f"no answer within {timeout_s}s")
            if attempt <= 2:
                raise GatewayTransientError("sandbox: transient failure")
        # The answer depends on the key and token alone: keeping it tells whether one was
        # kept before (then that one is the answer, and nothing is charged again).
        answer = self._answer(key, token)
        first, now = self.memory.keep_first(key, "authorize", answer, amount)
        self._charged([(answer, now)])
        return first

    def authorize_at_once(
        self, requests: Sequence[AuthorizationRequest]
    ) -> dict[str, GatewayAnswer]:
        """The answers this sandbox gives without trying (every token but those answering
        by attempt), kept in one write, by key; the other requests are left out, for
        ``authorize`` one at a time. (A gateway reached over the network has no such call:
        its requests are asked one by one, concurrently.)"""
        at_once = [r for r in requests if r.token not in _BY_ATTEMPT]
        answers = {r.key: self._answer(r.key, r.token) for r in at_once}
        kept = self.memory.keep_many(
            "authorize", [(r.key, answers[r.key], r.amount) for r in at_once]
        )
        self._charged([(answers[key], now) for key, (_, now) in kept.items()])
        return {key: first for key, (first, _) in kept.items()}

    def _answer(self, key: str, token: str) -> GatewayAnswer:
        if token in ("tok_visa", "tok_flaky", "tok_mastercard"):
            return GatewayAnswer("approved", self._reference(key))
        if token == "tok_refund_fails":
            return GatewayAnswer("approved", self._reference(key, UNWIND_FAILS))
        if token == "tok_declined":
            return GatewayAnswer("declined", self._reference(key), "card_declined")
        return GatewayAnswer("declined", self._reference(key), "unknown_token")

    def _charged(self, answers: Sequence[tuple[GatewayAnswer, bool]]) -> None:
        """Count the approvals kept now (an answer kept before was charged then)."""
        new = sum(now and a.outcome == "approved" for a, now in answers)
        if new:
            with self._lock:
                self.charges += new

    def _simple(self, key: str, operation: str, amount: Decimal | None) -> GatewayAnswer:
        answer = GatewayAnswer("approved", self._reference(key))
        return self.memory.keep(key, operation, answer, amount)  # or the one kept before

    def capture(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        return self._simple(key, "capture", amount)

    def _unwind_fails(self, authorization_ref: str) -> None:
        if authorization_ref.startswith(UNWIND_FAILS):
            with self._lock:
                self.unwind_failures += 1
            raise GatewayTransientError("sandbox: this authorization cannot be voided or refunded")

    def void(self, key: str, authorization_ref: str) -> GatewayAnswer:
        self._unwind_fails(authorization_ref)
        return self._simple(key, "void", None)

    def refund(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        self._unwind_fails(authorization_ref)
        return self._simple(key, "refund", amount)
