"""Random Unicode through every string of every POST/PATCH/PUT body of the served OpenAPI
document, as admin: every answer is 2xx or 4xx (never 5xx), and afterwards every view reaches
the head of the log (no event stalled a view).

Each operation starts from a body built from its schema, with every optional field filled and
the real ids of a small world made in the setup (a location, an active product with stock, an
order, a note, a category, a cancellation request), so that clean text is written as events.
Then one string (a value, or the key of a free-form object) at a time is replaced: first by
three fixed values for every field (a lone surrogate as a ``\\ud800`` escape, a NUL, bidi marks
and an emoji), then by hypothesis (controls, surrogates, bidi marks, emoji, very long strings),
written as raw JSON text, escaped or as UTF-8 bytes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import client_for
from tests.e2e.views import views_reach_the_head

PREFIX = "/api/v1"
METHODS = ("post", "patch", "put")
EXCLUDED = ("/rebuild",)  # rebuilding views would race the other tests sharing the database
LAST = ("/splits", "/approve", "/reject")  # they end what the others act on
KEY_MARK = "\uf8fe"  # private use: the key being replaced
FIXED = ["x\ud800y", "Ev\x00il", "\u202eevil\u202c \U0001f600 \u200f"]

ADDRESS = {"name": "Ann", "line1": "1 Main St", "line2": "Apt 2", "city": "Springfield",
           "region": "IL", "postal_code": "12345", "country": "US"}  # fmt: skip


# ---- the world the bodies refer to ---------------------------------------------------------


def _ok(r) -> dict:  # noqa: ANN001
    assert r.status_code in (200, 201, 202), (r.request.method, r.request.url, r.text)
    return r.json()


@pytest.fixture(scope="module")
def world(server_url) -> dict[str, Any]:
    with client_for(server_url) as api:
        codes = []
        for _ in range(2):
            code = f"TF-{uuid4().hex[:8]}"
            _ok(api.post("/locations", json={"code": code, "name": code, "type": "warehouse"}))
            codes.append(code)
        sku = f"TF-{uuid4().hex[:10]}"
        product = _ok(
            api.post(
                "/products",
                json={"sku": sku, "name": "Tee", "price": {"amount": "5.00", "currency": "USD"}},
            )
        )["id"]
        for status in ("pending_approval", "active"):
            _ok(api.post(f"/products/{product}/lifecycle", json={"status": status}))
        _ok(api.post(f"/inventory/{sku}/receipts", json={"location": codes[0], "quantity": 500}))
        body = {"customer_id": str(uuid4()), "currency": "USD",
                "lines": [{"sku": sku, "quantity": 1}], "shipping_address": ADDRESS,
                "payment": {"method": "card", "token": "tok_visa"}}  # fmt: skip
        placed = _ok(api.post("/orders", json=body))
        order = _ok(api.get(f"/orders/{placed['id']}", params={"min_position": placed["position"]}))
        note = _ok(api.post(f"/orders/{placed['id']}/notes", json={"text": "hello"}))
        slug = f"tf-{uuid4().hex[:8]}"
        category = _ok(api.post("/categories", json={"name": "Tees", "slug": slug}))
        other = _ok(api.post("/orders", json={**body, "customer_id": str(uuid4())}))
        request = _ok(  # on another order: approving it cancels that one
            api.post(f"/orders/{other['id']}/cancellation-requests", json={"reason": "other"})
        )
        doc = _ok(api.get(f"{server_url}/openapi.json"))
    return {
        "doc": doc,
        "params": {
            "order_id": placed["id"],
            "note_id": note["note_id"],
            "line_id": order["lines"][0]["line_id"],
            "product_id": product,
            "sku": sku,
            "category_id": category["id"],
            "request_id": request["id"],
            "customer_id": str(uuid4()),  # nobody's: forgetting it erases nothing of ours
        },
        "values": {
            "sku": sku,
            "location": codes[0],
            "from_location": codes[0],
            "to_location": codes[1],
            "line_id": order["lines"][0]["line_id"],
            "currency": "USD",
            "amount": "1.00",
            "country": "US",
            "token": "tok_visa",
            "customer_id": str(uuid4()),
            "parent_id": category["id"],
        },
    }


# ---- bodies from the schema ----------------------------------------------------------------


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for choice in ("anyOf", "oneOf"):
        if choice in schema:
            options = [s for s in schema[choice] if s.get("type") != "null"]
            return _resolve(doc, options[0])
    return schema


def example(doc: dict, schema: dict, values: dict, name: str = "") -> Any:
    """A value for ``schema``: every property filled, real ids where the name says so."""
    schema = _resolve(doc, schema)
    if name in values and schema.get("type", "string") == "string":
        return values[name]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if not props:  # a free-form object: one entry, whose key is text too
            return {"note": "free"}
        return {k: example(doc, s, values, k) for k, s in props.items()}
    if kind == "array":
        return [example(doc, schema.get("items", {}), values, name)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid4())
    if fmt == "date-time":
        return (datetime.now(UTC) + timedelta(days=3)).isoformat()
    if fmt == "date":
        return (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    return "text"


def string_fields(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every string of ``value``, and ("key", path) for every free-form key."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if k == "note" and v == "free":
                out.append(("key", *path))
            out.extend(string_fields(v, (*path, k)))
        return out
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in string_fields(v, (*path, i))]
    return []


class _Ids(dict):
    """Path parameters: the world's ids, a fresh id for any other (the answer is then 404)."""

    def __missing__(self, name: str) -> str:
        return str(uuid4())


def operations(world: dict) -> list[tuple[str, str, dict, tuple]]:
    """(method, url, base body, field) for every string field of every body."""
    doc, params = world["doc"], world["params"]
    out = []
    for template, ops in doc["paths"].items():
        if not template.startswith(PREFIX) or template.endswith(EXCLUDED):
            continue
        for method, op in ops.items():
            body_doc = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if method not in METHODS or body_doc is None:
                continue
            url = template[len(PREFIX) :].format_map(_Ids(params))
            body = example(doc, body_doc["schema"], world["values"])
            out.extend((method, url, body, f) for f in string_fields(body))
    return sorted(out, key=lambda op: op[1].endswith(LAST))  # stable: the rest in order


def with_text(body: dict, field: tuple, text: str, ascii_only: bool) -> bytes:
    """``body`` as raw JSON text with ``text`` at ``field`` (a value, or a key), lone
    surrogates written as ``\\udXXX`` escapes (ASCII) or as their UTF-8-like bytes."""
    body = copy.deepcopy(body)
    if field[:1] == ("key",):
        parent = body
        for part in field[1:]:
            parent = parent[part]
        parent[KEY_MARK] = parent.pop("note")
        raw = json.dumps(body, ensure_ascii=ascii_only).replace(
            json.dumps(KEY_MARK, ensure_ascii=ascii_only)[1:-1],
            json.dumps(text, ensure_ascii=ascii_only)[1:-1],
        )
    else:
        parent = body
        for part in field[:-1]:
            parent = parent[part]
        parent[field[-1]] = text
        raw = json.dumps(body, ensure_ascii=ascii_only)
    return raw.encode("utf-8", "surrogatepass")


# ---- the test ------------------------------------------------------------------------------


TEXT = st.one_of(
    st.text(
        st.characters(categories=["Cc", "Cs", "Cf", "Co", "Zs", "Lo", "Lu", "Ll", "Nd", "So"]),
        max_size=40,
    ),
    st.sampled_from(
        [
            "\x00",
            "\ud800",
            "\udfff",
            "\ud83d",
            "\x85",
            "\x7f",
            "\t\n\r",
            "\u202e",
            "\u2066x\u2069",
            "\U0001f600\u200d\U0001f525",
            "\ufeff",
            "\uffff",
        ]
    ),  # fmt: skip
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["a", "\u00e9", "\U0001f600", "\u202e", "\x00"]),
        st.integers(200, 20_000),
    ),
)


def _send(api, method: str, url: str, raw: bytes):  # noqa: ANN001
    return api.request(method, url, content=raw, headers={"content-type": "application/json"})


def test_random_text_through_every_body_string_never_answers_5xx_nor_stalls_a_view(
    server_url, world
):
    ops = operations(world)
    assert len({(m, u) for m, u, _, _ in ops}) >= 30, "too few operations found"
    failures = []
    with client_for(server_url) as api:
        for method, url, body, field in ops:  # every field, three fixed values
            for text in FIXED:
                r = _send(api, method, url, with_text(body, field, text, ascii_only=True))
                if r.status_code >= 500 or r.status_code < 200:
                    failures.append((method, url, field, repr(text), r.status_code, r.text[:200]))
                bad = any(c in text for c in "\x00\ud800")
                if bad and r.status_code != 422:
                    failures.append((method, url, field, repr(text), r.status_code, "not 422"))

        @settings(
            max_examples=200,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(op=st.sampled_from(ops), text=TEXT, ascii_only=st.booleans())
        def random_text(op, text, ascii_only):
            method, url, body, field = op
            r = _send(api, method, url, with_text(body, field, text, ascii_only))
            assert 200 <= r.status_code < 500, (method, url, field, repr(text)[:80], r.text)

        random_text()
        assert not failures, failures[:20]
        views_reach_the_head(api)
