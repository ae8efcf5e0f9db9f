"""Auditors over HTTP and the CLI: chain verification, time travel for products, inventory and
locations, forgetting a customer, exports verified offline against a signed checkpoint."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import uuid4

import httpx
import orjson
import pytest

from audit.checkpoint import load_or_create_key, public_key_of
from composition import cli
from tests.e2e.conftest import assert_error, client_for
from tests.factories import active_product

ADDRESS = {"name": "N", "line1": "L", "city": "C", "postal_code": "P", "country": "US"}


def _product(api, price="9.99"):
    sku = f"AUD-{uuid4().hex[:10]}"
    body = {"sku": sku, "name": "Audited", "price": {"amount": price, "currency": "USD"}}
    r = api.post("/products", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], sku


def _public_key(key_file: str) -> str:
    return public_key_of(load_or_create_key(Path(key_file)))


def _wait_chained(api, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        report = api.get("/audit/verify").json()
        if report["unchained"] == 0 or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def _read_when_caught_up(api, path, position, timeout_s=60.0):
    """A read-your-writes GET, retried while the view is still catching up (503): other tests
    of the session may have loaded thousands of events just before."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = api.get(httpx.URL(path).copy_merge_params({"min_position": position}))
        if r.status_code != 503 or time.monotonic() > deadline:
            assert r.status_code == 200, r.text
            return r.json()


def test_audit_verify_reports_an_intact_chain(api):
    _product(api)
    report = _wait_chained(api)
    assert report["ok"] is True and report["first_bad_position"] is None
    assert report["events_checked"] >= 1 and report["head"] >= report["events_checked"]


def test_an_analyst_may_not_verify_but_an_auditor_may(server_url):
    with client_for(server_url, role="analyst") as analyst:
        assert_error(analyst.get("/audit/verify"), 403)
    with client_for(server_url, role="auditor") as auditor:
        assert auditor.get("/audit/verify").status_code == 200


def test_products_inventory_and_locations_travel_in_time(api):
    product_id, sku = _product(api, "5.00")
    code = f"AUD-{uuid4().hex[:8]}"
    body = {"code": code, "name": "W", "type": "warehouse", "priority": 1}
    assert api.post("/locations", json=body).status_code == 201
    r = api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": 5})
    assert r.status_code in (200, 201), r.text
    r = api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": 7})
    assert r.status_code in (200, 201), r.text

    first = api.get(f"/inventory/{sku}/state", params={"version": 1})
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    now = api.get(f"/inventory/{sku}/state").json()
    assert now["version"] == 2 and now["stream_type"] == "inventory"
    assert str(12) in orjson.dumps(now["state"]).decode()

    product = api.get(f"/products/{product_id}/state", params={"version": 1}).json()
    assert product["state"]["sku"] == sku
    assert api.get(f"/locations/{code}/state").json()["state"]["code"] == code
    assert_error(
        api.get(f"/products/{product_id}/state", params={"as_of": "2000-01-01T00:00:00Z"}),
        404,
        "product_not_yet_created",
    )
    assert_error(api.get(f"/products/{uuid4()}/state"), 404, "product_not_found")
    assert_error(api.get(f"/inventory/{sku}/state", params={"version": 0}), 422)


def test_forgetting_a_customer_over_http_erases_their_order_address(api, container):
    sku = active_product(container, price="3.00")[1]
    customer_id = str(uuid4())
    secret = f"Secret Street {uuid4().hex[:8]}"
    order = {
        "customer_id": customer_id,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": {**ADDRESS, "line1": secret},
        "payment": {"token": "tok"},
    }
    r = api.post("/orders", json=order)
    assert r.status_code in (201, 202), r.text
    order_id, position = r.json()["id"], r.json()["position"]
    doc = _read_when_caught_up(api, f"/orders/{order_id}", position)
    assert doc["shipping_address"]["line1"] == secret

    r = api.post(f"/customers/{customer_id}/forget", json={"reason": "gdpr request"})
    assert r.status_code == 200, r.text
    assert secret not in api.get(f"/orders/{order_id}").text
    assert secret not in api.get(f"/streams/{order_id}/events").text
    assert secret not in api.get(f"/orders/{order_id}/state").text
    assert secret not in api.get(f"/orders/{order_id}/timeline").text
    assert _wait_chained(api)["ok"] is True
    assert_error(api.post(f"/customers/{uuid4()}/forget", json={"extra": 1}), 422)


def test_cli_export_verifies_offline_against_the_pinned_key(
    api, database_url, tmp_path: Path, monkeypatch, capsys
):
    _product(api)
    monkeypatch.setenv("ECOM_DATABASE_URL", database_url)
    checkpoint, export, csv_export = tmp_path / "cp.json", tmp_path / "ev.jsonl", tmp_path / "e.csv"
    key = ["--key", str(tmp_path / "key.pem")]  # the chain's MAC key stays the servers' one
    assert cli.main(["audit", "checkpoint", "--out", str(checkpoint), *key]) == 0
    assert cli.main(["events", "export", "--out", str(export), *key]) == 0
    assert cli.main(["events", "export", "--format", "csv", "--out", str(csv_export), *key]) == 0
    capsys.readouterr()
    pinned = tmp_path / "pinned.json"  # as GET /audit/public-key answers
    pinned.write_text(
        orjson.dumps({"algorithm": "Ed25519", "public_key": _public_key(key[1])}).decode()
    )
    verify = ["audit", "verify", "--public-key", str(pinned)]
    assert cli.main([*verify, "--file", str(export)]) == 0
    assert orjson.loads(capsys.readouterr().out)["ok"] is True
    assert cli.main([*verify, "--file", str(csv_export)]) == 0
    assert cli.main([*verify, "--checkpoint", str(checkpoint)]) == 0
    assert cli.main(["audit", "verify", "--file", str(export)]) == 2  # no pinned key
    assert cli.main(["audit", "verify", "--checkpoint", str(checkpoint)]) == 2  # nor here

    lines = export.read_bytes().splitlines()
    record = orjson.loads(lines[-2])
    record["occurred_at"] = "2001-01-01T00:00:00+00:00"
    lines[-2] = orjson.dumps(record)
    export.write_bytes(b"\n".join(lines) + b"\n")
    capsys.readouterr()
    assert cli.main([*verify, "--file", str(export)]) == 1
    assert orjson.loads(capsys.readouterr().out)["first_bad_position"] == record["position"]

    truncated = tmp_path / "short.jsonl"
    truncated.write_bytes(b"\n".join(export.read_bytes().splitlines()[:-1]) + b"\n")
    assert cli.main([*verify, "--file", str(truncated)]) == 1


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_by_time_range(api, database_url, tmp_path: Path, monkeypatch, capsys, fmt):
    _product(api)
    monkeypatch.setenv("ECOM_DATABASE_URL", database_url)
    out, key = tmp_path / f"range.{fmt}", ["--key", str(tmp_path / "key.pem")]
    args = ["events", "export", "--since", "2000-01-01T00:00:00", "--format", fmt, *key]
    assert cli.main([*args, "--out", str(out)]) == 0
    pinned = _public_key(key[1])
    assert cli.main(["audit", "verify", "--file", str(out), "--public-key", pinned]) == 0
