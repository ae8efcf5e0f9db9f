"""Customers: the right to be forgotten (admin only)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, PrincipalDep
from api.errors import ApiError
from api.schemas import ERRORS, Request
from commands import customers

router = APIRouter(tags=["customers"], responses=ERRORS)


class ForgetCustomer(Request):
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "customer_request"


class Forgotten(BaseModel):
    customer_id: str
    forgotten: bool
    version: int
    position: int


@router.post("/customers/{customer_id}/forget", response_model=Forgotten)
def forget_customer(
    customer_id: UUID,
    container: ContainerDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: ForgetCustomer | None = None,
):
    """Destroy the customer's data key: their personal data reads as erased everywhere, the
    log still replays and verifies. Answers once the read models are scrubbed."""
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "Only an admin may forget a customer.")
    if container.keyring is None:
        raise ApiError(503, "privacy_unavailable", "No key ring is configured.")
    result = customers.forget(
        container.store,
        container.keyring,
        ctx,
        customer_id=customer_id,
        reason=(body or ForgetCustomer()).reason,
    )
    container.runner.wait_for("privacy_erasure", result.position, timeout_s=5.0)
    return Forgotten(
        customer_id=str(customer_id),
        forgotten=True,
        version=result.version,
        position=result.position,
    )
