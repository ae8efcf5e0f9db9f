"""Signed tree heads: the Merkle root at a tree size, signed with the audit Ed25519 key.

The signature is over the UTF-8 bytes of ``{"root_hash":…,"timestamp":…,"tree_size":…}``
(JSON, keys sorted, no spaces): ``root_hash`` in hex, ``timestamp`` in milliseconds since the
Unix epoch (UTC), ``tree_size`` the number of leaves (positions 1..tree_size). The published
head adds ``signature`` (base64). The key is the one ``audit/checkpoint.py`` loads
(``ECOM_AUDIT_KEY_FILE``); auditors pin its public key (``GET /audit/public-key``,
``ecom audit public-key``).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def payload(tree_size: int, root_hash: bytes, timestamp: int) -> bytes:
    return orjson.dumps(
        {"root_hash": root_hash.hex(), "timestamp": timestamp, "tree_size": tree_size},
        option=orjson.OPT_SORT_KEYS,
    )


def sign(key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp: int) -> dict:
    return {
        "tree_size": tree_size,
        "root_hash": root_hash.hex(),
        "timestamp": timestamp,
        "signature": base64.b64encode(key.sign(payload(tree_size, root_hash, timestamp))).decode(),
    }


def verify(head: dict[str, Any], public_key_b64: str) -> bool:
    """Whether ``head`` is signed by the pinned key (any malformed head: False)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        message = payload(
            int(head["tree_size"]), bytes.fromhex(head["root_hash"]), int(head["timestamp"])
        )
        key.verify(base64.b64decode(head["signature"], validate=True), message)
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True
