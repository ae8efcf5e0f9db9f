"""The signature of a delivery: ``X-Ecom-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``,
each ``v1`` the HMAC-SHA256 under one valid secret of ``"<t>.<raw body>"`` (the current secret
first; during a rotation's grace the previous one too). ``verify`` is the receiver's side, the
same few lines ``docs/webhooks.md`` gives."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from hashlib import sha256


def signature(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, sha256).hexdigest()


def header(secrets: Sequence[str], t: int, body: bytes) -> str:
    return ",".join([f"t={t}", *(f"v1={signature(s, t, body)}" for s in secrets)])


def verify(secret: str, value: str, body: bytes, now: float, tolerance_s: int = 300) -> bool:
    """True when one ``v1`` of the header is ``secret``'s and ``t`` is within the tolerance."""
    pairs = [p.split("=", 1) for p in value.split(",") if "=" in p]
    t = next((v for k, v in pairs if k == "t"), None)
    if t is None or not t.isdigit() or abs(now - int(t)) > tolerance_s:
        return False
    expected = signature(secret, int(t), body)
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in pairs)
