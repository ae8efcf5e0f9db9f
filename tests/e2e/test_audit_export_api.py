"""``GET /audit/export``: the download an auditor checks offline with the standalone verifier
against the key they pinned, whole or from a later position; bounded, and for auditors and
admins only."""

from __future__ import annotations

from uuid import uuid4

import pytest

from audit import ecom_verify
from tests.e2e.conftest import assert_error, client_for
from tests.factories import active_product


@pytest.fixture(scope="module")
def auditor(server_url, container):
    active_product(container)  # at least a few events
    with client_for(server_url, role="auditor") as client:
        assert client.get("/audit/verify").json()["ok"] is True
        yield client


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_export_passes_the_standalone_verifier_with_the_pinned_key(auditor, tmp_path, fmt):
    key = ecom_verify.load_public_key(auditor.get("/audit/public-key").json()["public_key"])
    head = auditor.get("/audit/digest").json()["tree_size"]
    first = max(1, head - 20)
    r = auditor.get(
        "/audit/export", params={"from_position": first, "to_position": head, "format": fmt}
    )
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(r.content)
    report = ecom_verify.check_export_file(str(path), key)
    assert report.ok, report


def test_a_tampered_export_fails_the_verifier(auditor, tmp_path):
    key = ecom_verify.load_public_key(auditor.get("/audit/public-key").json()["public_key"])
    r = auditor.get("/audit/export", params={"from_position": 1, "to_position": 5})
    lines = r.content.splitlines()
    lines[2] = lines[2].replace(b'"version":', b'"version":1', 1)
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert not ecom_verify.check_export_file(str(path), key).ok


def test_ranges_are_checked(auditor):
    assert_error(
        auditor.get("/audit/export", params={"from_position": 5, "to_position": 2}),
        422,
        "invalid_position_range",
    )
    assert_error(
        auditor.get("/audit/export", params={"from_position": 1, "to_position": 10**6}),
        422,
        "export_too_large",
    )


def test_only_auditors_and_admins_export(server_url):
    for role in ("analyst", "merchant", "customer"):
        with client_for(server_url, role=role, sub=str(uuid4())) as client:
            assert_error(client.get("/audit/export"), 403, "forbidden")
