"""Webhook secrets, derived and never stored: ``whsec_`` + hex HMAC-SHA256(webhook key,
``<webhook id>:<generation>``).

The webhook key is 32 random bytes in one file (``ECOM_WEBHOOK_KEY_FILE``, default
``<data dir>/webhook.key``, mode 0600, created on first use; every process of a deployment
reads the same file). So the log, its exports, the read models and the delivery table hold no
secret (a rotation records only the next generation), a restart signs as before, and the
answer to a repeated registration (an idempotency key) carries the same secret."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from uuid import UUID

KEY_BYTES = 32
PREFIX = "whsec_"


def key_path(data_dir: Path) -> Path:
    return Path(os.environ.get("ECOM_WEBHOOK_KEY_FILE") or data_dir / "webhook.key")


@lru_cache(maxsize=8)
def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, created there (0600) if missing; of several processes starting at
    once exactly one creates it and the others read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            data = path.read_bytes()
            if len(data) == 2 * KEY_BYTES:
                return bytes.fromhex(data.decode())
            time.sleep(0.02)
        raise ValueError(f"{path} does not hold a webhook key") from None
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def secret_of(key: bytes, webhook_id: UUID, generation: int) -> str:
    return PREFIX + hmac.new(key, f"{webhook_id}:{generation}".encode(), sha256).hexdigest()
