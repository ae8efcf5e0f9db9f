"""Auditors: verify the hash chain, proofs over the Merkle tree of the log (public key, signed
tree heads, inclusion and consistency proofs), and the past state of any aggregate (time
travel): at ``?version=`` (one the stream has not reached is ``404 version_not_found``) or
``?as_of=`` (an RFC 3339 instant with its offset; without one, ``422``). The proofs are
``audit/tree_store.py``'s; an auditor checks them with their own code against the public key
they pinned."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContainerDep
from api.errors import ApiError
from api.schemas import ERRORS, IsoDateTime
from audit.tree_store import TreeStore
from audit.verify import verify_to_head
from commands.time_travel import jsonable, state_at
from domain.aggregate import AggregateType
from domain.ids import inventory_stream, location_stream
from domain.inventory.state import INVENTORY
from domain.location.state import LOCATION
from domain.product.state import PRODUCT

router = APIRouter(tags=["audit"], responses=ERRORS)
Key = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
#: The largest version or position the store can hold (a bigint).
BIGINT_MAX = 2**63 - 1
Version = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]


class VerifyOut(BaseModel):
    ok: bool
    events_checked: int
    head: int
    head_hash: str
    first_bad_position: int | None
    problem: str | None
    unchained: int


class PastState(BaseModel):
    id: str
    stream_id: str
    stream_type: str
    version: int
    as_of: str | None
    state: dict[str, Any]


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str = Field(description="base64 of the 32 raw bytes of the Ed25519 public key")


class DigestOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="hex")
    timestamp: int = Field(description="milliseconds since the Unix epoch (UTC)")
    signature: str = Field(
        description='base64 Ed25519 over the UTF-8 JSON {"root_hash","timestamp","tree_size"} '
        "(keys sorted, no spaces)"
    )


class ProofOut(BaseModel):
    position: int
    tree_size: int
    leaf: str = Field(description="base64 of the exact leaf bytes (UTF-8 JSON record)")
    leaf_hash: str = Field(description="hex, the stored tree's leaf: SHA-256(0x00 || leaf)")
    audit_path: list[str]
    root_hash: str


class ConsistencyOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    proof: list[str]


TreeSize = Annotated[
    int | None, Query(ge=0, le=BIGINT_MAX, description="default: the current tree size")
]

#: How long a verification waits for the chain to reach the head before saying it did not.
VERIFY_WAIT_S = 10.0


@router.get("/audit/verify", response_model=VerifyOut)
def verify_chain(container: ContainerDep):
    """Chain up to the log's head, then walk the hash chain to it; report the first bad
    position, or ``ok: false`` with the events not yet chained."""
    report = verify_to_head(container.pool, container.chainer, wait_s=VERIFY_WAIT_S)
    return VerifyOut(**report.as_json())


def _tree(container) -> TreeStore:  # noqa: ANN001
    if container.tree is None or container.tree.key is None:
        raise ApiError(503, "audit_tree_unavailable", "No Merkle tree is kept by this server.")
    return container.tree


def _size(tree: TreeStore, tree_size: int | None) -> int:
    size = tree.size()
    if tree_size is None:
        return size
    if tree_size > size:
        raise ApiError(
            422,
            "tree_size_beyond_head",
            f"The tree holds {size} leaves; tree_size {tree_size} is beyond it.",
            {"tree_size": size},
        )
    return tree_size


@router.get("/audit/public-key", response_model=PublicKeyOut)
def public_key(container: ContainerDep):
    """The Ed25519 key that signs tree heads (pin it out of band)."""
    return PublicKeyOut(algorithm="Ed25519", public_key=_tree(container).public_key())


@router.get("/audit/digest", response_model=DigestOut)
def digest(container: ContainerDep, tree_size: TreeSize = None):
    """The signed tree head: the Merkle root over positions 1..tree_size (default: every
    chained position)."""
    tree = _tree(container)
    return DigestOut(**tree.signed_head(_size(tree, tree_size)))


@router.get("/audit/proof/{position}", response_model=ProofOut)
def inclusion_proof(
    container: ContainerDep,
    position: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    tree_size: TreeSize = None,
):
    """The inclusion proof of the event at ``position`` in the tree of ``tree_size`` leaves."""
    tree = _tree(container)
    size = _size(tree, tree_size)
    if position > size:
        raise ApiError(
            404,
            "position_not_in_tree",
            f"Position {position} is not in the tree of {size} leaves.",
            {"tree_size": size},
        )
    proof = tree.inclusion(position, size)
    return ProofOut(
        position=position,
        tree_size=size,
        leaf=base64.b64encode(tree.leaf(position)).decode(),
        leaf_hash=proof.leaf_hash.hex(),
        audit_path=[h.hex() for h in proof.audit_path],
        root_hash=proof.root_hash.hex(),
    )


@router.get("/audit/consistency", response_model=ConsistencyOut)
def consistency_proof(
    container: ContainerDep,
    from_: Annotated[int, Query(alias="from", ge=0, le=BIGINT_MAX)],
    to: TreeSize = None,
):
    """The proof that the tree of ``to`` leaves (default: the current size) extends the tree
    of ``from`` leaves."""
    tree = _tree(container)
    size = _size(tree, to)
    if from_ > size:
        raise ApiError(
            422, "invalid_tree_range", f"'from' ({from_}) must not be after 'to' ({size})."
        )
    proof = tree.consistency(from_, size)
    return ConsistencyOut(from_=from_, to=size, proof=[h.hex() for h in proof])


def _past(
    container,  # noqa: ANN001
    response: Response,
    aggregate: AggregateType,
    kind: str,
    key: str,
    stream_id: UUID,
    version: int | None,
    as_of: datetime | None,
) -> PastState:
    state, at_version = state_at(
        container.store, aggregate, stream_id, kind=kind, version=version, as_of=as_of
    )
    response.headers["ETag"] = f'"{at_version}"'
    return PastState(
        id=key,
        stream_id=str(stream_id),
        stream_type=aggregate.stream_type,
        version=at_version,
        as_of=as_of.isoformat() if as_of else None,
        state=jsonable(state),
    )


@router.get("/products/{product_id}/state", response_model=PastState)
def product_state(
    product_id: UUID,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """The product as it was at ``?version=`` or ``?as_of=``, folded from its events."""
    return _past(
        container, response, PRODUCT, "product", str(product_id), product_id, version, as_of
    )


@router.get("/inventory/{sku}/state", response_model=PastState)
def inventory_state(
    sku: Key,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """A SKU's stock and reservations as they were, folded from its events."""
    return _past(
        container, response, INVENTORY, "inventory", sku, inventory_stream(sku), version, as_of
    )


@router.get("/locations/{code}/state", response_model=PastState)
def location_state(
    code: Key,
    container: ContainerDep,
    response: Response,
    as_of: IsoDateTime | None = None,
    version: Version = None,
):
    """A location as it was, folded from its events."""
    return _past(
        container, response, LOCATION, "location", code, location_stream(code), version, as_of
    )
