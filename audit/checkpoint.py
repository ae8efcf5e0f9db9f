"""Signed checkpoints of the hash chain, kept outside the database.

A checkpoint is a small JSON file: the chain's position and hash there, when it was taken, the
Ed25519 public key and a signature over the canonical payload. Verifying against it detects what
the chain alone cannot: a truncated tail, or a tail rewritten together with a recomputed chain.
The signing key is a PEM file, generated on first use (``ECOM_AUDIT_KEY_FILE``, default
``<data dir>/audit_ed25519.pem``); the chain's MAC key is derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class CheckpointInvalid(ValueError):
    """The file is malformed or its signature does not verify."""


def audit_key_path(data_dir: Path) -> Path:
    return Path(os.environ.get("ECOM_AUDIT_KEY_FILE") or data_dir / "audit_ed25519.pem")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``, created there (mode 0600) if missing; when several processes start
    at once exactly one creates it and the others read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            data = path.read_bytes()
            if data.strip().endswith(b"-----END PRIVATE KEY-----"):
                break
            time.sleep(0.02)
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointInvalid(f"{path} does not hold an Ed25519 private key") from None
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def _public_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: bytes
    created_at: str

    def payload(self) -> bytes:
        return (
            f"ecom-chain-checkpoint:v1:{self.position}:{self.hash.hex()}:{self.created_at}".encode()
        )

    def sign(self, key: Ed25519PrivateKey) -> dict:
        return {
            "position": self.position,
            "hash": self.hash.hex(),
            "created_at": self.created_at,
            "public_key": _public_b64(key.public_key()),
            "signature": base64.b64encode(key.sign(self.payload())).decode(),
        }


def write_checkpoint(
    path: Path, position: int, head_hash: bytes, key: Ed25519PrivateKey, now: datetime
) -> dict:
    doc = Checkpoint(position, head_hash, now.isoformat()).sign(key)
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return doc


def read_checkpoint(path: Path, trusted_public_key: str | None = None) -> Checkpoint:
    """Parse and check the signature (against ``trusted_public_key`` when given)."""
    try:
        doc = orjson.loads(path.read_bytes())
        cp = Checkpoint(int(doc["position"]), bytes.fromhex(doc["hash"]), str(doc["created_at"]))
        public = doc["public_key"] if trusted_public_key is None else trusted_public_key
        if trusted_public_key is not None and doc["public_key"] != trusted_public_key:
            raise CheckpointInvalid("the checkpoint was signed by another key")
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        key.verify(base64.b64decode(doc["signature"]), cp.payload())
    except CheckpointInvalid:
        raise
    except InvalidSignature:
        raise CheckpointInvalid("the checkpoint's signature does not verify") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"unreadable checkpoint: {exc}") from None
    return cp


def mac_key_of(key: Ed25519PrivateKey) -> bytes:
    """The chain's MAC key, derived from the signing key (one secret file to keep)."""
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(b"ecom-chain-mac:v1:" + raw).digest()


def public_key_of(key: Ed25519PrivateKey) -> str:
    return _public_b64(key.public_key())
