"""Schemathesis fuzzes the served ``/openapi.json`` as each role: no 5xx and no response that
violates its documented schema; and, as an admin, with every check (``--checks all``, the
repository's ``schemathesis.toml`` and its check of refusals): the document tells the truth
about headers, parameters, content types, status codes and what a valid request is.

Each role fuzzes the operations the authorization table lets it use (what it may not use
answers 403 before any input is read; the role × route matrix covers that). Kept bounded:
a few examples per operation (``ECOM_FUZZ_EXAMPLES``, default 5), a fixed seed
(``ECOM_FUZZ_SEED`` to vary it). Rebuilding read models is left out.

The fuzzer serves itself a database of its own (``server_url`` below): its stateful phase
creates and activates pricing rules and code-less promotions at random, which would price
and discount every order the other tests place afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import psycopg
import pytest

from api.authentication import ROLES
from api.authorization import compile_rules, rule_for
from composition.bootstrap import CAPABILITIES
from composition.capabilities import combine
from tests.e2e.conftest import running_server, token

#: Not fuzzed: a rebuild (slow by nature) and a live event stream (it never ends; its own
#: tests read it: tests/e2e/test_chat_api.py).
EXCLUDED = re.compile(r"/rebuild$|/stream$")
CHECKS = "not_a_server_error,response_schema_conformance"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_url(database_url: str) -> Iterator[str]:
    """The program (process managers off) on a fresh database beside the session's, dropped
    afterwards: what fuzzing writes stays there."""
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    name = f"ecom_fuzz_{uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        own = psycopg.conninfo.make_conninfo(database_url, dbname=name)
        with running_server(own, ECOM_RUN_PROCESSES="0") as base:
            yield base
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def role_document(doc: dict, role: str) -> dict:
    """The OpenAPI document cut down to the operations ``role`` may call."""
    rules = compile_rules(open_docs=True, open_metrics=False, extra=combine(CAPABILITIES).rules)
    paths = {}
    for path, ops in doc["paths"].items():
        kept = {
            method: op
            for method, op in ops.items()
            if method in ("get", "post", "put", "patch", "delete")
            and not EXCLUDED.search(path)
            and (rule := rule_for(rules, method.upper(), path)) is not None
            and (rule.public or role in rule.access)
        }
        if kept:
            paths[path] = kept
    return {**doc, "paths": paths}


@pytest.mark.parametrize("role", ROLES)
def test_fuzzing_finds_no_server_error_and_no_schema_violation(server_url, role, tmp_path: Path):
    doc = role_document(httpx.get(f"{server_url}/openapi.json", timeout=30).json(), role)
    assert doc["paths"], f"{role} may call nothing"
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(doc))
    sub = str(uuid4()) if role == "customer" else f"fuzz-{role}"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(schema),
        "--url",
        server_url,
        "--header",
        f"Authorization: Bearer {token(role, sub)}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        os.environ.get("ECOM_FUZZ_EXAMPLES", "5"),
        "--seed",
        os.environ.get("ECOM_FUZZ_SEED", "20261128"),
        "--no-shrink",
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    report = run.stdout[-12000:] + run.stderr[-4000:]
    assert run.returncode == 0, report


def test_every_check_as_admin_finds_the_document_and_the_server_agree(server_url, tmp_path: Path):
    """``schemathesis run --checks all`` as an admin, every phase (examples, coverage,
    fuzzing, stateful), a fixed seed, bounded in time: nothing found."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{server_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token('admin', 'fuzz-all-checks')}",
        "--checks",
        "all",
        "--exclude-path-regex",
        EXCLUDED.pattern,
        "--max-examples",
        os.environ.get("ECOM_FUZZ_ALL_EXAMPLES", "10"),
        "--seed",
        os.environ.get("ECOM_FUZZ_SEED", "20261128"),
        "--no-shrink",
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    run = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = run.stdout[-16000:] + run.stderr[-4000:]
    assert run.returncode == 0, report
    assert "generated" in run.stdout, report


def test_a_405_names_every_method_the_path_answers(server_url):
    """Routes of one path live in several routers: the ``Allow`` of a ``405`` names them all,
    as the document does."""
    doc = httpx.get(f"{server_url}/openapi.json", timeout=30).json()
    headers = {"Authorization": f"Bearer {token('admin', 'fuzz-allow')}"}
    for template in ("/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/shipments"):
        url = server_url + template.replace("{order_id}", str(uuid4()))
        r = httpx.request("OPTIONS", url, headers=headers, timeout=30)
        assert r.status_code == 405, r.text
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert {m.upper() for m in doc["paths"][template]} <= allowed, (template, allowed)
