"""Signed unsubscribe tokens: ``List-Unsubscribe`` links that withdraw a customer's consent on
one channel without a login. A token is ``<customer id hex><channel>.<HMAC-SHA256, 128 bits>``
under a key the composition root owns; it names what it withdraws and nothing else, and a
changed byte makes it worthless."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from uuid import UUID

CHANNELS = ("email", "sms")


class UnsubscribeTokens:
    def __init__(self, key: bytes):
        self._key = key

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def token(self, customer_id: UUID, channel: str) -> str:
        payload = f"{customer_id.hex}{channel}"
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str) -> tuple[UUID, str] | None:
        """(customer id, channel), or None for a token this key did not sign."""
        payload, _, mac = token.partition(".")
        channel = payload[32:]
        if len(payload) < 33 or channel not in CHANNELS:
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            return UUID(hex=payload[:32]), channel
        except ValueError:
            return None


def unsubscribe_key(data_dir: Path) -> bytes:
    """The signing key, kept in ``<data dir>/unsubscribe.key`` (made on first use; every
    process of a deployment shares the data folder)."""
    path = data_dir / "unsubscribe.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return path.read_bytes()


def tokens_in(data_dir: Path) -> UnsubscribeTokens:
    return UnsubscribeTokens(unsubscribe_key(data_dir))
