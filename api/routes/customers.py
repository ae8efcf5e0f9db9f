"""Customers over HTTP: registration, profile, addresses, segment, consents, blocking, the
right to be forgotten (admin only), and the customers view. ``RULES`` are the routes' rows of
the authorization table: staff (admin, merchant) manage customers, a customer token (``sub`` =
customer id) reads and changes its own record only (``customer:own``), forgetting is an
admin's."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, PrincipalDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, MoneyOut, Page, Request, body_of
from commands.context import Outcome
from domain.customer import commands as cmd
from domain.customer.events import Channel
from projections import customers as view

router = APIRouter(tags=["customers"], responses=ERRORS)
ERASURE = "privacy_erasure"
_STAFF = "admin merchant"
RULES = (
    ("POST", "/customers", _STAFF),
    ("GET", "/customers", f"{_STAFF} analyst"),
    ("GET", "/customers/{}", f"{_STAFF} analyst customer:own"),
    ("PATCH", "/customers/{}", f"{_STAFF} customer:own"),
    ("POST", "/customers/{}/addresses", f"{_STAFF} customer:own"),
    ("DELETE", "/customers/{}/addresses/{}", f"{_STAFF} customer:own"),
    ("POST", "/customers/{}/consents", f"{_STAFF} customer:own"),
    ("POST", "/customers/{}/segment", _STAFF),
    ("POST", "/customers/{}/block", _STAFF),
    ("POST", "/customers/{}/unblock", _STAFF),
    ("POST", "/customers/{}/forget", "admin"),
)
OWNED = {"customers": "customer_not_found"}

ProfileBody = body_of(cmd.UpdateProfile, path=("customer_id",))
AddressBody = body_of(cmd.AddAddress, path=("customer_id",))
SegmentBody = body_of(cmd.AssignSegment, path=("customer_id",))
BlockBody = body_of(cmd.BlockCustomer, path=("customer_id",))
ForgetCustomerBody = body_of(cmd.ForgetCustomer, path=("customer_id",))


class ConsentBody(Request):
    """Grant (``granted: true``) or withdraw consent on one channel; the time and the source
    (who asked) are recorded."""

    channel: Channel
    granted: bool


class CustomerAck(Ack):
    id: UUID


class AddressAck(CustomerAck):
    address_id: UUID


class Consent(BaseModel):
    granted: bool
    at: str | None = None
    source: str | None = None


class CustomerAddress(BaseModel):
    address_id: UUID
    address: dict[str, Any]
    default_shipping: bool
    default_billing: bool


class Customer(BaseModel):
    id: UUID
    email: str
    name: str
    phone: str | None
    segment: str
    status: Literal["active", "blocked", "forgotten"]
    addresses: list[CustomerAddress]
    consents: dict[str, Consent]
    order_count: int
    lifetime_value: list[MoneyOut]
    version: int


class Forgotten(BaseModel):
    customer_id: str
    forgotten: bool
    version: int
    position: int


def _ack(customer_id: UUID | str, done: Outcome) -> CustomerAck:
    return CustomerAck(id=customer_id, version=done.version, position=done.position)


@router.post("/customers", status_code=201, response_model=CustomerAck)
def register_customer(body: cmd.RegisterCustomer, dispatch: DispatchDep, ctx: ContextDep):
    """A new customer; an email already registered (in any case) is ``409 email_taken``."""
    done = dispatch(body, ctx)
    return _ack(done.extra["id"], done)


@router.patch("/customers/{customer_id}", response_model=CustomerAck)
def update_profile(customer_id: UUID, body: ProfileBody, dispatch: DispatchDep, ctx: ContextDep):
    """Change the name or the phone (``null`` removes it); each change keeps old and new."""
    command = cmd.UpdateProfile(customer_id=customer_id, **body.given())
    return _ack(customer_id, dispatch(command, ctx))


@router.post("/customers/{customer_id}/addresses", status_code=201, response_model=AddressAck)
def add_address(customer_id: UUID, body: AddressBody, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(cmd.AddAddress(customer_id=customer_id, **body.fields()), ctx)
    return AddressAck(
        id=customer_id,
        address_id=done.extra["address_id"],
        version=done.version,
        position=done.position,
    )


@router.delete("/customers/{customer_id}/addresses/{address_id}", response_model=CustomerAck)
def remove_address(customer_id: UUID, address_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    command = cmd.RemoveAddress(customer_id=customer_id, address_id=address_id)
    return _ack(customer_id, dispatch(command, ctx))


@router.post("/customers/{customer_id}/segment", response_model=CustomerAck)
def assign_segment(customer_id: UUID, body: SegmentBody, dispatch: DispatchDep, ctx: ContextDep):
    """A segment of the fixed list (``docs/api.md``); another is ``422 unknown_segment``."""
    command = cmd.AssignSegment(customer_id=customer_id, **body.fields())
    return _ack(customer_id, dispatch(command, ctx))


@router.post("/customers/{customer_id}/consents", response_model=CustomerAck)
def set_consent(customer_id: UUID, body: ConsentBody, dispatch: DispatchDep, ctx: ContextDep):
    kind = cmd.GrantConsent if body.granted else cmd.WithdrawConsent
    return _ack(customer_id, dispatch(kind(customer_id=customer_id, channel=body.channel), ctx))


@router.post("/customers/{customer_id}/block", response_model=CustomerAck)
def block_customer(customer_id: UUID, body: BlockBody, dispatch: DispatchDep, ctx: ContextDep):
    """A blocked customer's orders are refused (``422 customer_blocked``)."""
    command = cmd.BlockCustomer(customer_id=customer_id, **body.fields())
    return _ack(customer_id, dispatch(command, ctx))


@router.post("/customers/{customer_id}/unblock", response_model=CustomerAck)
def unblock_customer(customer_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    return _ack(customer_id, dispatch(cmd.UnblockCustomer(customer_id=customer_id), ctx))


@router.get(
    "/customers/{customer_id}", response_model=Customer, dependencies=[read_model(view.NAME)]
)
def get_customer(customer_id: UUID, container: ContainerDep, response: Response):
    found = view.get_customer(container.pool, customer_id)
    if found is None:
        raise ApiError(404, "customer_not_found", f"Customer {customer_id} does not exist.")
    response.headers["ETag"] = f'"{found["version"]}"'
    return Customer(**found)


@router.get("/customers", response_model=Page[Customer], dependencies=[read_model(view.NAME)])
def list_customers(
    container: ContainerDep,
    segment: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["active", "blocked", "forgotten"] | None = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    try:
        last = UUID(str(after[0])) if after else None
    except (ValueError, IndexError):
        raise ApiError(400, "malformed_cursor", "The cursor is not one this API issued.") from None
    rows, nxt = view.list_customers(
        container.pool, segment=segment, status=status, email=email, limit=limit, after=last
    )
    return Page(
        items=[Customer(**r) for r in rows],
        next_cursor=encode_cursor([str(nxt)]) if nxt else None,
    )


def _scrub_now(container, position: int, timeout_s: float = 30.0) -> None:  # noqa: ANN001
    """Drive the privacy views to ``position`` here rather than wait for the background loop's
    turn (it may be busy with other views); their batches are small."""
    deadline = time.monotonic() + timeout_s
    runner = container.runner
    for name in (ERASURE, view.NAME):
        while runner.position(name) < position:
            if not runner.run_once(name) and time.monotonic() > deadline:
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
    result = dispatch(cmd.ForgetCustomer(customer_id=customer_id, **fields), ctx)
    _scrub_now(container, result.position)
    return Forgotten(
        customer_id=str(customer_id),
        forgotten=True,
        version=result.version,
        position=result.position,
    )
