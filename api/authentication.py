"""Authentication: ``Authorization: Bearer <JWT>`` becomes a ``Principal`` (``sub``, ``role``).

PyJWT verifies every token with ONE pinned algorithm (HS256 by default, key from
``ECOM_JWT_SECRET``; RS256, ES256 or EdDSA with ``ECOM_JWT_PUBLIC_KEY``), requires ``exp``,
``sub`` and ``role``, honours ``nbf``/``iat`` with a small leeway and checks ``iss``/``aud`` when
they are configured. A failure is a 401 with ``WWW-Authenticate: Bearer``.

No secret configured (local development): the server and ``ecom token`` share a random secret
kept in ``<data_dir>/jwt_secret`` (created once, mode 0600). The API is never open: a caller
needs a token minted with that file, i.e. access to the machine's data directory."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt

from api.errors import ApiError

ROLES = ("customer", "merchant", "admin", "auditor", "analyst")
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
MIN_SECRET_BYTES = 32
DEV_SECRET_FILE = "jwt_secret"
_SUB = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True)
class Principal:
    id: str
    role: str


@dataclass(frozen=True)
class AuthConfig:
    algorithm: str
    verify_key: Any
    signing_key: Any = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: int = 30
    #: Tokens already verified under this configuration, by their exact text (signature
    #: included, so a tampered token never hits): token → (principal, not before, expires).
    #: Owned by the configuration, which the app builds once (``api.deps.auth_config``).
    verified: dict[str, tuple[Principal, float, float]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Any) -> AuthConfig:
        """From the JWT fields of ``composition.settings.Settings`` (read by name: the API does not
        import the composition root's package)."""
        alg = settings.jwt_algorithm
        common = {
            "issuer": settings.jwt_issuer,
            "audience": settings.jwt_audience,
            "leeway_s": settings.jwt_leeway_s,
        }
        if alg in HMAC_ALGORITHMS:
            secret = settings.jwt_secret or dev_secret(settings.data_dir)
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"ECOM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes.")
            return cls(alg, secret, secret, **common)
        if alg in ASYMMETRIC_ALGORITHMS:
            if not settings.jwt_public_key:
                raise ValueError(f"{alg} needs ECOM_JWT_PUBLIC_KEY (PEM text or a file path).")
            return cls(alg, read_pem(settings.jwt_public_key), None, **common)
        raise ValueError(f"Unsupported ECOM_JWT_ALGORITHM {alg!r}.")


def read_pem(value: str) -> str:
    """PEM text given inline, else the content of the file it names."""
    if "-----BEGIN" in value:
        return value
    return Path(value).read_text()


def dev_secret(data_dir: Path) -> str:
    """The development secret in ``data_dir``: created once (0600), shared by every worker."""
    path = Path(data_dir) / DEV_SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        time.sleep(0.05)
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def mint(
    config: AuthConfig,
    sub: str,
    role: str,
    *,
    ttl_s: int = 3600,
    now: float | None = None,
    signing_key: Any = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A token for ``sub`` in ``role`` (development and tests)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": issued, "exp": issued + ttl_s}
    if config.issuer:
        claims["iss"] = config.issuer
    if config.audience:
        claims["aud"] = config.audience
    claims.update(extra or {})
    key = signing_key if signing_key is not None else config.signing_key
    if key is None:
        raise ValueError("No signing key: pass the private key for an asymmetric algorithm.")
    return jwt.encode(claims, key, algorithm=config.algorithm)


def _unauthorized(code: str, message: str, error: str | None = "invalid_token") -> ApiError:
    challenge = 'Bearer realm="ecom"'
    if error:
        challenge += f', error="{error}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def verify(config: AuthConfig, token: str) -> Principal:
    """The principal a token names, or a 401 ``ApiError``. The message never echoes the token."""
    return _verify(config, token)[0]


def _verify(config: AuthConfig, token: str) -> tuple[Principal, dict[str, Any]]:
    options = {"require": ["exp", "sub", "role"]}  # a token with an aud needs one configured
    try:
        claims = jwt.decode(
            token,
            config.verify_key,
            algorithms=[config.algorithm],
            options=options,
            leeway=config.leeway_s,
            issuer=config.issuer,
            audience=config.audience,
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("token_expired", "The token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise _unauthorized("token_not_yet_valid", "The token is not valid yet.") from None
    except jwt.PyJWTError as exc:
        reason = type(exc).__name__
        raise _unauthorized("invalid_token", f"The token is not valid ({reason}).") from None
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not _SUB.match(sub):
        raise _unauthorized("invalid_token", "The token's subject is not valid.")
    if role not in ROLES:
        raise _unauthorized("invalid_token", "The token's role is not one this API knows.")
    if role == "customer":
        try:
            sub = str(UUID(sub))  # a customer's subject is their customer id
        except ValueError:
            raise _unauthorized("invalid_token", "A customer's subject must be a UUID.") from None
    return Principal(id=sub, role=role), claims


def bearer_token(authorization: str | None) -> str:
    """The token in an ``Authorization: Bearer`` header, or a 401."""
    if not authorization:
        raise _unauthorized("missing_token", "This endpoint needs a bearer token.", None)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("invalid_token", "Use 'Authorization: Bearer <token>'.")
    return token


VERIFIED_MAX = 10_000


def authenticate(config: AuthConfig, authorization: str | None) -> Principal:
    """The principal of an ``Authorization`` header. A client reusing its token skips the
    signature check (``config.verified``) until the token's own limits."""
    token = bearer_token(authorization)
    verified = config.verified
    hit = verified.get(token)
    if hit is not None:
        principal, not_before, expires = hit
        if not_before <= time.time() < expires:
            return principal
        del verified[token]
    principal, claims = _verify(config, token)
    not_before = max(float(claims.get("nbf", 0)), float(claims.get("iat", 0))) - config.leeway_s
    if len(verified) >= VERIFIED_MAX:
        verified.clear()
    verified[token] = (principal, not_before, float(claims["exp"]) + config.leeway_s)
    return principal
