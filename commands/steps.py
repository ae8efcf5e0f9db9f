"""Contexts for the internal steps of a multi-stream command (dispatch, cancellation, return):
each step gets an idempotency key made of a scope (the shipment, request or return id) and a
step name, so running the whole sequence again (after a crash, or from another event of the
same workflow) writes each step once. A step that found nothing to do takes its key all the
same: each workflow runs in one place, its process manager, one event at a time, so a key never
meets work it did not see the first time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from commands.context import CommandContext, Idempotency

StepContext = Callable[[str], CommandContext]


def steps(ctx: CommandContext, scope: str) -> StepContext:
    """Step contexts under ``scope``; each keeps ``ctx``'s correlation and causation."""

    def make(step: str) -> CommandContext:
        key = f"{scope}:{step}"
        return replace(
            ctx,
            expected_version=None,
            idempotency=Idempotency(
                principal="process:fulfillment",
                key=key,
                request_hash=hashlib.sha256(key.encode()).hexdigest(),
            ),
        )

    return make
