"""Customers: the right to be forgotten (admin only)."""

from __future__ import annotations

import time
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, PrincipalDep
from api.errors import ApiError
from api.schemas import ERRORS, body_of
from domain.customer.commands import ForgetCustomer

router = APIRouter(tags=["customers"], responses=ERRORS)
ERASURE = "privacy_erasure"


ForgetCustomerBody = body_of(ForgetCustomer, path=("customer_id",))


class Forgotten(BaseModel):
    customer_id: str
    forgotten: bool
    version: int
    position: int


def _scrub_now(container, position: int, timeout_s: float = 30.0) -> None:  # noqa: ANN001
    """Drive the privacy view to ``position`` here rather than wait for the background loop's
    turn (it may be busy with other views); its batches are small (one event type)."""
    deadline = time.monotonic() + timeout_s
    runner = container.runner
    while runner.position(ERASURE) < position:
        if not runner.run_once(ERASURE) and time.monotonic() > deadline:
            raise ApiError(
                503,
                "erasure_pending",
                "The key is destroyed; the read models are still being scrubbed.",
                headers={"Retry-After": "1"},
            )
        time.sleep(0.005)


@router.post("/customers/{customer_id}/forget", response_model=Forgotten)
def forget_customer(
    customer_id: UUID,
    container: ContainerDep,
    dispatch: DispatchDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: ForgetCustomerBody | None = None,
):
    """Destroy the customer's data key: their personal data reads as erased everywhere, the
    log still replays and verifies. Answers once the read models are scrubbed."""
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "Only an admin may forget a customer.")
    if container.keyring is None:
        raise ApiError(503, "privacy_unavailable", "No key ring is configured.")
    fields = body.fields() if body is not None else {}
    result = dispatch(ForgetCustomer(customer_id=customer_id, **fields), ctx)
    _scrub_now(container, result.position)
    return Forgotten(
        customer_id=str(customer_id),
        forgotten=True,
        version=result.version,
        position=result.position,
    )
