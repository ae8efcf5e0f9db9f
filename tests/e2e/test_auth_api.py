"""Authentication over HTTP against the real server: what is open, the 401s of the JWT attacks,
the principal recorded as actor, idempotency keys scoped per principal, request ids, and a
burst over the rate limit answered 429 while other principals keep being served."""

from __future__ import annotations

import base64
import json
import time
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import assert_error, auth_headers, running_server, token
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


@pytest.fixture
def anon(server_url):
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=30) as client:
        yield client


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_health_ready_and_docs_are_open_the_rest_needs_a_token(anon, server_url):
    assert httpx.get(f"{server_url}/health").status_code == 200
    assert anon.get("/health").status_code == 200
    assert anon.get("/ready").status_code in (200, 503)
    assert httpx.get(f"{server_url}/openapi.json").status_code == 200
    for path in ("/locations", "/orders", "/events", "/metrics", "/no/such/path"):
        r = anon.get(path)
        assert_error(r, 401, "missing_token")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


ATTACKS = {
    "alg_none": lambda: (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"sub": "x", "role": "admin", "exp": int(time.time()) + 600})
        + "."
    ),
    "expired": lambda: token("admin", "x", exp=int(time.time()) - 3600),
    "not_yet_valid": lambda: token("admin", "x", nbf=int(time.time()) + 3600),
    "wrong_audience": lambda: token("admin", "x", aud="another-api"),
    "tampered": lambda: _tamper(token("analyst", "x")),
    "missing_sub": lambda: _without_sub(),
    "garbage": lambda: "not-a-token",
}


def _tamper(tok: str) -> str:
    header, _, signature = tok.split(".")
    return (
        f"{header}.{_b64({'sub': 'x', 'role': 'admin', 'exp': int(time.time()) + 600})}.{signature}"
    )


def _without_sub() -> str:
    import jwt

    from tests.e2e.conftest import JWT_SECRET

    claims = {"role": "admin", "exp": int(time.time()) + 600}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_jwt_attacks_answer_401(anon, attack):
    r = anon.get("/locations", headers={"Authorization": f"Bearer {ATTACKS[attack]()}"})
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_principal_is_recorded_as_the_actor(api, container):
    sku = active_product(container, price="5.00")[1]
    customer = str(uuid4())
    body = {
        "customer_id": customer,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
    }
    r = api.post("/orders", json=body, headers=auth_headers("customer", customer))
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    tag = api.post(
        f"/orders/{order_id}/tags", json={"tag": "vip"}, headers=auth_headers("admin", "clerk-42")
    )
    assert tag.status_code == 200, tag.text
    events = api.get(f"/streams/{order_id}/events").json()["items"]
    assert [e["actor"] for e in events] == [customer, "clerk-42"]


def test_idempotency_keys_are_scoped_per_principal(api):
    key = f"k-{uuid4().hex}"
    code = f"ID-{uuid4().hex[:8]}"
    body = {"code": code, "name": code, "type": "warehouse", "priority": 1}
    first = api.post(
        "/locations", json=body, headers={**auth_headers("admin", "u1"), "Idempotency-Key": key}
    )
    assert first.status_code == 201, first.text
    again = api.post(
        "/locations", json=body, headers={**auth_headers("admin", "u1"), "Idempotency-Key": key}
    )
    assert again.status_code == 201 and again.json() == first.json()
    other = api.post(
        "/locations", json=body, headers={**auth_headers("admin", "u2"), "Idempotency-Key": key}
    )
    assert other.status_code == 409, other.text  # not u1's response replayed: a real attempt


def test_every_response_carries_a_request_id(api, anon):
    ids = set()
    for r in (
        api.get("/locations"),
        api.get(f"/orders/{uuid4()}"),
        anon.get("/orders"),
        api.post("/locations", json={}),
    ):
        ids.add(r.headers["X-Request-Id"])
    assert len(ids) == 4
    r = api.get("/locations", headers={"X-Request-Id": "client-trace-1"})
    assert r.headers["X-Request-Id"] == "client-trace-1"


@pytest.fixture(scope="module")
def limited(database_url, container):
    """A server with small limits: 5 requests then 1/s per principal, 40 then 2/s per address."""
    env = {
        "ECOM_RATE_PER_PRINCIPAL": "1",
        "ECOM_BURST_PER_PRINCIPAL": "5",
        "ECOM_RATE_PER_CLIENT": "2",
        "ECOM_BURST_PER_CLIENT": "40",
        "ECOM_RUN_PROCESSES": "0",
    }
    with running_server(database_url, **env) as base:
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as client:
            yield client


def test_a_burst_over_the_limit_gets_429_and_others_are_still_served(limited):
    noisy = auth_headers("merchant", "noisy")
    statuses = [limited.get("/locations", headers=noisy).status_code for _ in range(12)]
    assert statuses[:5] == [200] * 5 and statuses.count(429) >= 6
    refused = limited.get("/locations", headers=noisy)
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert limited.get("/locations", headers=auth_headers("merchant", "quiet")).status_code == 200
    assert limited.get("/health").status_code == 200


def test_one_address_is_limited_whoever_it_claims_to_be(limited):
    statuses = [
        limited.get("/locations", headers=auth_headers("analyst", f"sub-{i}")).status_code
        for i in range(60)
    ]
    assert 429 in statuses
    r = limited.get("/locations", headers=auth_headers("analyst", "fresh"))
    assert_error(r, 429, "rate_limited")
    assert "address" in r.json()["error"]["message"]


def test_with_rs256_configured_an_hs256_token_signed_with_the_public_key_is_refused(
    database_url, container
):
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from api.authentication import AuthConfig, mint

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    env = {"ECOM_JWT_ALGORITHM": "RS256", "ECOM_JWT_PUBLIC_KEY": public, "ECOM_RUN_PROCESSES": "0"}
    with running_server(database_url, **env) as base:
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as client:
            good = mint(AuthConfig("RS256", public), "a-1", "auditor", signing_key=key)
            assert (
                client.get("/events", headers={"Authorization": f"Bearer {good}"}).status_code
                == 200
            )
            header = _b64({"alg": "HS256", "typ": "JWT"})
            payload = _b64({"sub": "x", "role": "admin", "exp": int(time.time()) + 600})
            mac = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
            sig = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
            for forged in (f"{header}.{payload}.{sig}", token("admin", "x"), ATTACKS["alg_none"]()):
                r = client.get("/events", headers={"Authorization": f"Bearer {forged}"})
                assert_error(r, 401)
