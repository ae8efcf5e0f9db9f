"""Proofs over HTTP as an outside auditor checks them: the public key pinned once (the API's and
``ecom audit public-key``'s agree), signed tree heads, inclusion and consistency proofs for
random positions and sizes verified with ``audit.merkle`` and ``audit.tree_head`` only, and
refused when one byte of leaf, path, root or signature changes; bad sizes and positions answer
4xx with a code; ``/audit/verify`` right after writes on a fresh store served by two workers
never vouches for fewer events than the store holds."""

from __future__ import annotations

import base64
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import merkle, tree_head
from audit.verify import event_head
from composition import cli
from tests.e2e.conftest import (
    assert_error,
    client_for,
    ecom_serve,
)
from tests.factories import active_product

EVENTS = 300
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def flip(data: bytes, at: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.fixture(scope="module")
def auditor(server_url, container):
    """An auditor's client on a store of at least EVENTS events, all chained."""
    while event_head(container.pool) < EVENTS:
        active_product(container)
    with client_for(server_url, role="auditor") as client:
        report = client.get("/audit/verify").json()
        assert report["ok"] is True and report["unchained"] == 0, report
        yield client


@pytest.fixture(scope="module")
def pinned(auditor) -> str:
    body = auditor.get("/audit/public-key").json()
    assert body["algorithm"] == "Ed25519" and len(base64.b64decode(body["public_key"])) == 32
    return body["public_key"]


@pytest.fixture(scope="module")
def total(auditor) -> int:
    """The tree's size when the module starts (every event of the session so far)."""
    return auditor.get("/audit/digest").json()["tree_size"]


def _head(auditor, pinned: str, size: int) -> bytes:  # noqa: ANN001
    head = auditor.get("/audit/digest", params={"tree_size": size}).json()
    assert head["tree_size"] == size and tree_head.verify(head, pinned), head
    signature = base64.b64decode(head["signature"])
    forged = {**head, "signature": base64.b64encode(flip(signature, size)).decode()}
    assert not tree_head.verify(forged, pinned)
    other_root = flip(bytes.fromhex(head["root_hash"]), size).hex()
    assert not tree_head.verify({**head, "root_hash": other_root}, pinned)
    return bytes.fromhex(head["root_hash"])


def test_the_cli_prints_the_key_the_api_publishes(pinned, capsys):
    capsys.readouterr()
    assert cli.main(["audit", "public-key"]) == 0
    assert capsys.readouterr().out.strip() == pinned


@SETTINGS
@given(st.data())
def test_inclusion_proofs_verify_against_the_signed_head(auditor, pinned, total, data):
    size = data.draw(st.integers(1, total))
    position = data.draw(st.integers(1, size))
    root = _head(auditor, pinned, size)
    proof = auditor.get(f"/audit/proof/{position}", params={"tree_size": size}).json()
    assert (proof["position"], proof["tree_size"]) == (position, size)
    leaf = base64.b64decode(proof["leaf"])
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert merkle.leaf_hash(leaf).hex() == proof["leaf_hash"]
    assert proof["root_hash"] == root.hex()
    assert merkle.verify_inclusion(position - 1, size, merkle.leaf_hash(leaf), path, root)

    at = data.draw(st.integers(0, 10_000))
    bad_leaf = merkle.leaf_hash(flip(leaf, at))
    assert not merkle.verify_inclusion(position - 1, size, bad_leaf, path, root)
    assert not merkle.verify_inclusion(
        position - 1, size, merkle.leaf_hash(leaf), path, flip(root, at)
    )
    if path:
        i = at % len(path)
        bad_path = [*path[:i], flip(path[i], at), *path[i + 1 :]]
        assert not merkle.verify_inclusion(
            position - 1, size, merkle.leaf_hash(leaf), bad_path, root
        )


@SETTINGS
@given(st.data())
def test_consistency_proofs_verify_between_signed_heads(auditor, pinned, total, data):
    second = data.draw(st.integers(1, total))
    first = data.draw(st.integers(1, second))
    old, new = _head(auditor, pinned, first), _head(auditor, pinned, second)
    body = auditor.get("/audit/consistency", params={"from": first, "to": second}).json()
    assert (body["from"], body["to"]) == (first, second)
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert merkle.verify_consistency(first, second, old, new, proof)
    at = data.draw(st.integers(0, 10_000))
    assert not merkle.verify_consistency(first, second, flip(old, at), new, proof)
    if first < second:  # equal sizes have an empty proof: only the roots can differ
        assert not merkle.verify_consistency(first, second, old, flip(new, at), proof)
    if proof:
        i = at % len(proof)
        bad = [*proof[:i], flip(proof[i], at), *proof[i + 1 :]]
        assert not merkle.verify_consistency(first, second, old, new, bad)


def test_the_current_head_covers_every_chained_event(auditor, pinned, container):
    head = auditor.get("/audit/digest").json()
    assert tree_head.verify(head, pinned) and head["tree_size"] >= EVENTS
    proof = auditor.get(f"/audit/proof/{head['tree_size']}").json()
    assert proof["tree_size"] >= head["tree_size"]


def test_bad_positions_and_sizes_answer_4xx_with_a_code(auditor, server_url):
    size = auditor.get("/audit/digest").json()["tree_size"]
    assert_error(auditor.get("/audit/proof/0"), 422)
    assert_error(auditor.get("/audit/proof/-3"), 422)
    assert_error(auditor.get("/audit/proof/abc"), 422)
    assert_error(auditor.get(f"/audit/proof/{size + 1000}"), 404, "position_not_in_tree")
    assert_error(
        auditor.get("/audit/proof/5", params={"tree_size": 4}), 404, "position_not_in_tree"
    )
    beyond = {"tree_size": size + 1000}
    assert_error(auditor.get("/audit/proof/1", params=beyond), 422, "tree_size_beyond_head")
    assert_error(auditor.get("/audit/digest", params=beyond), 422, "tree_size_beyond_head")
    assert_error(auditor.get("/audit/digest", params={"tree_size": -1}), 422)
    assert_error(
        auditor.get("/audit/consistency", params={"from": 9, "to": 3}), 422, "invalid_tree_range"
    )
    assert_error(
        auditor.get("/audit/consistency", params={"from": 1, "to": size + 1000}),
        422,
        "tree_size_beyond_head",
    )
    assert_error(auditor.get("/audit/consistency"), 422)
    with client_for(server_url, role="analyst") as analyst:
        for path in ("/audit/public-key", "/audit/digest", "/audit/proof/1"):
            assert_error(analyst.get(path), 403)


@pytest.fixture
def fresh_database_url(database_url):
    name = f"ecom_fresh_{uuid.uuid4().hex[:10]}"
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield psycopg.conninfo.make_conninfo(database_url, dbname=name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_verify_right_after_writes_on_a_fresh_store_with_two_workers(fresh_database_url):
    with (
        ecom_serve(fresh_database_url, ECOM_WORKERS="2", ECOM_RUN_PROCESSES="0") as (_proc, base),
        client_for(base) as api,
    ):
        for i in range(8):
            sku = f"FRESH-{uuid.uuid4().hex[:8]}"
            body = {"sku": sku, "name": "F", "price": {"amount": "1.00", "currency": "USD"}}
            written = api.post("/products", json=body)
            assert written.status_code == 201, written.text
            report = api.get("/audit/verify").json()
            assert report["ok"] is True, report
            assert report["unchained"] == 0 and report["head"] >= i + 1, report
            assert report["events_checked"] == report["head"], report
            head = api.get("/audit/digest").json()
            assert head["tree_size"] >= report["head"]


def test_the_standalone_verifier_accepts_what_the_service_publishes(auditor, pinned, container):
    """The server's heads, proofs and export, checked by ``audit/ecom_verify.py`` alone against
    the pinned key: the export's signed root is the digest's root at the same size."""
    import io

    from audit import ecom_verify
    from audit.export import export_events

    key = ecom_verify.load_public_key(pinned)
    size = auditor.get("/audit/digest").json()["tree_size"]
    old = auditor.get("/audit/digest", params={"tree_size": size // 2}).json()
    new = auditor.get("/audit/digest", params={"tree_size": size}).json()
    for position in (1, size // 3, size):
        proof = auditor.get(f"/audit/proof/{position}", params={"tree_size": size}).json()
        report = ecom_verify.check_inclusion(proof, new, key)
        assert report.ok, report.as_json()
        assert report.event["position"] == position
    consistency = auditor.get("/audit/consistency", params={"from": size // 2, "to": size})
    assert ecom_verify.check_consistency(old, new, consistency.json(), key).ok
    assert not ecom_verify.check_consistency(new, old, consistency.json(), key).ok
    out = io.BytesIO()
    export_events(
        container.pool, container.tree.key, out, from_position=size // 2, to_position=size,
        now_ms=1,
    )  # fmt: skip
    report = ecom_verify.check_export_text(out.getvalue(), key)
    assert report.ok, report.as_json()
    assert (report.tree_size, report.root_hash) == (size, new["root_hash"])
