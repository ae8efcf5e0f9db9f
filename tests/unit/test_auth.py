"""Token verification (``api.authentication``): what is accepted, and every classic JWT attack
refused with a 401 and a ``WWW-Authenticate: Bearer`` challenge; the rate limiter's buckets."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from api.authentication import AuthConfig, Principal, authenticate, dev_secret, mint, verify
from api.errors import ApiError
from api.rate_limit import RateLimiter
from composition.settings import Settings

SECRET = "unit-" + "x" * 40
HS = AuthConfig("HS256", SECRET, SECRET, leeway_s=5)


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


RSA_PRIVATE, RSA_PUBLIC = _rsa_pair()
RS = AuthConfig("RS256", RSA_PUBLIC, None, leeway_s=5)


def refused(config: AuthConfig, token: str, code: str = "invalid_token") -> ApiError:
    with pytest.raises(ApiError) as info:
        verify(config, token)
    err = info.value
    assert err.status == 401, err.message
    assert err.code == code, (err.code, err.message)
    assert err.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in err.message
    return err


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# ---- accepted ------------------------------------------------------------------------------


def test_a_fresh_hs256_token_names_its_subject_and_role():
    assert verify(HS, mint(HS, "ops-1", "admin")) == Principal("ops-1", "admin")


def test_a_customer_subject_is_their_customer_id_normalized():
    customer = uuid4()
    token = mint(HS, str(customer).upper(), "customer")
    assert verify(HS, token) == Principal(str(customer), "customer")


def test_an_rs256_token_verifies_with_the_public_key():
    token = mint(RS, "m-1", "merchant", signing_key=RSA_PRIVATE)
    assert verify(RS, token).role == "merchant"


def test_an_eddsa_token_verifies_with_the_public_key():
    key = ed25519.Ed25519PrivateKey.generate()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = AuthConfig("EdDSA", public)
    assert verify(config, mint(config, "a-1", "auditor", signing_key=key)).id == "a-1"


def test_a_token_a_little_early_or_late_passes_within_the_leeway():
    now = time.time()
    assert verify(HS, mint(HS, "s", "analyst", ttl_s=1, now=now - 4)).id == "s"
    assert verify(HS, mint(HS, "s", "analyst", extra={"nbf": int(now) + 3})).id == "s"


def test_issuer_and_audience_are_checked_when_configured():
    config = AuthConfig("HS256", SECRET, SECRET, issuer="https://id.example", audience="ecom")
    assert verify(config, mint(config, "s", "admin")).id == "s"
    refused(config, mint(HS, "s", "admin", extra={"aud": "ecom"}))  # no issuer
    refused(config, mint(HS, "s", "admin", extra={"iss": "https://id.example"}))  # no audience


# ---- attacks -------------------------------------------------------------------------------


def test_alg_none_is_refused():
    token = (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"sub": "x", "role": "admin", "exp": int(time.time()) + 600})
        + "."
    )
    refused(HS, token)
    refused(RS, token)


def test_an_hs256_token_signed_with_the_rs256_public_key_is_refused():
    claims = {"sub": "x", "role": "admin", "exp": int(time.time()) + 600}
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(claims)
    import hashlib
    import hmac

    signature = hmac.new(RSA_PUBLIC.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    sig = base64.urlsafe_b64encode(signature.digest()).rstrip(b"=").decode()
    refused(RS, f"{header}.{payload}.{sig}")


def test_an_expired_token_is_refused():
    refused(HS, mint(HS, "s", "admin", ttl_s=10, now=time.time() - 60), "token_expired")


def test_a_token_not_yet_valid_is_refused():
    token = mint(HS, "s", "admin", extra={"nbf": int(time.time()) + 600})
    refused(HS, token, "token_not_yet_valid")


def test_a_token_issued_in_the_future_is_refused():
    token = mint(HS, "s", "admin", extra={"iat": int(time.time()) + 600})
    refused(HS, token, "token_not_yet_valid")


def test_a_wrong_audience_is_refused():
    config = AuthConfig("HS256", SECRET, SECRET, audience="ecom")
    refused(config, mint(HS, "s", "admin", extra={"aud": "another-api"}))
    refused(HS, mint(HS, "s", "admin", extra={"aud": "ecom"}))  # none configured: no aud allowed


def test_a_tampered_payload_is_refused():
    header, _, signature = mint(HS, "s", "analyst").split(".")
    forged = _b64({"sub": "s", "role": "admin", "exp": int(time.time()) + 600})
    refused(HS, f"{header}.{forged}.{signature}")


def test_another_secret_is_refused():
    other = AuthConfig("HS256", "y" * 40, "y" * 40)
    refused(HS, mint(other, "s", "admin"))


def test_missing_sub_role_or_exp_is_refused():
    now = int(time.time())
    refused(HS, jwt.encode({"role": "admin", "exp": now + 60}, SECRET, algorithm="HS256"))
    refused(HS, jwt.encode({"sub": "s", "exp": now + 60}, SECRET, algorithm="HS256"))
    refused(HS, jwt.encode({"sub": "s", "role": "admin"}, SECRET, algorithm="HS256"))


def test_an_unknown_role_or_a_bad_subject_is_refused():
    now = int(time.time())
    claims = {"sub": "s", "role": "root", "exp": now + 60}
    refused(HS, jwt.encode(claims, SECRET, algorithm="HS256"))
    refused(HS, jwt.encode({**claims, "role": "admin", "sub": ""}, SECRET, algorithm="HS256"))
    refused(HS, jwt.encode({**claims, "role": "admin", "sub": 7}, SECRET, algorithm="HS256"))
    refused(HS, mint(HS, "not-a-uuid", "customer"))


def test_garbage_and_wrong_schemes_are_refused():
    refused(HS, "not.a.jwt")
    with pytest.raises(ApiError) as info:
        authenticate(HS, None)
    assert (info.value.status, info.value.code) == (401, "missing_token")
    with pytest.raises(ApiError) as info:
        authenticate(HS, "Basic dXNlcjpwYXNz")
    assert info.value.status == 401


# ---- configuration -------------------------------------------------------------------------


def test_a_short_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        AuthConfig.from_settings(Settings(jwt_secret="short"))


def test_an_asymmetric_algorithm_needs_a_public_key(tmp_path: Path):
    with pytest.raises(ValueError):
        AuthConfig.from_settings(Settings(jwt_algorithm="RS256"))
    pem = tmp_path / "pub.pem"
    pem.write_text(RSA_PUBLIC)
    config = AuthConfig.from_settings(Settings(jwt_algorithm="RS256", jwt_public_key=str(pem)))
    assert config.verify_key == RSA_PUBLIC and config.signing_key is None


def test_without_a_secret_a_private_dev_secret_is_made_once(tmp_path: Path):
    first = AuthConfig.from_settings(Settings(data_dir=tmp_path))
    again = AuthConfig.from_settings(Settings(data_dir=tmp_path))
    assert first.verify_key == again.verify_key == dev_secret(tmp_path)
    assert len(first.verify_key) >= 32
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


# ---- rate limiter --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_asks_to_wait_and_refills():
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("a")
    assert wait == pytest.approx(0.5)
    assert limiter.take("b") == 0  # other keys are unaffected
    clock.now += 0.5
    assert limiter.take("a") == 0
    assert RateLimiter.retry_after(0.2) == "1" and RateLimiter.retry_after(2.1) == "3"


def test_a_zero_rate_disables_limiting_and_idle_buckets_are_pruned():
    assert RateLimiter(rate=0, burst=1).take("a") == 0
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=1, max_keys=10, clock=clock)
    for i in range(10):
        limiter.take(str(i))
    clock.now += 1
    limiter.take("new")
    assert len(limiter._buckets) <= 2


def test_a_cached_token_is_still_refused_once_it_expires():
    config = AuthConfig("HS256", SECRET, SECRET, leeway_s=0)
    header = f"Bearer {mint(config, 'cached', 'admin', ttl_s=2)}"
    assert authenticate(config, header).id == "cached"
    assert authenticate(config, header).id == "cached"  # from the cache
    time.sleep(2.1)
    with pytest.raises(ApiError) as info:
        authenticate(config, header)
    assert (info.value.status, info.value.code) == (401, "token_expired")


def test_a_tampered_copy_of_a_cached_token_is_refused():
    header = f"Bearer {mint(HS, 'cached', 'analyst')}"
    assert authenticate(HS, header).role == "analyst"
    head, _, signature = header.split(".")
    forged = f"{head}.{_b64({'sub': 'cached', 'role': 'admin', 'exp': int(time.time()) + 60})}"
    with pytest.raises(ApiError):
        authenticate(HS, f"{forged}.{signature}")
