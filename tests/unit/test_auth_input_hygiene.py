"""Input hygiene at the edge: money within the currency's decimals, unknown fields
refused, strings bounded, quantities bounded before any work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.app import create_app
from api.openapi import BODY_TEXT, FREE_TEXT
from api.schemas import MoneyIn
from composition.bootstrap import build
from domain.order.commands import PlaceOrder, RequestedLine


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [("19.99", "USD", True), ("19.999", "USD", False), ("500", "JPY", True),
     ("5.5", "JPY", False), ("1.0000", "EUR", True), ("-1", "USD", False),
     ("1e3", "USD", False), ("19.99", "usd", False)],
)  # fmt: skip
def test_money_has_at_most_the_currencys_decimal_places(amount, currency, ok):
    if ok:
        MoneyIn(amount=amount, currency=currency)
    else:
        with pytest.raises(ValidationError):
            MoneyIn(amount=amount, currency=currency)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        MoneyIn(amount="1.00", currency="USD", rate="0.1")
    with pytest.raises(ValidationError):
        RequestedLine(sku="A-1", quantity=1, price="0.01")


def test_quantities_and_lines_are_bounded():
    with pytest.raises(ValidationError):
        RequestedLine(sku="A-1", quantity=2**70)
    with pytest.raises(ValidationError):
        RequestedLine(sku="A-1", quantity="3")  # strict: no strings for numbers
    assert PlaceOrder.model_json_schema()["properties"]["lines"]["maxItems"] <= 1000


def _strings(schema: dict, schemas: dict, seen: set, path: str = ""):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from _strings(schemas[name], schemas, seen, name)
        return
    if schema.get("type") == "string":
        yield path, schema
    for key, sub in (schema.get("properties") or {}).items():
        yield from _strings(sub, schemas, seen, f"{path}.{key}")
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            yield from _strings(sub, schemas, seen, path)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _strings(schema[key], schemas, seen, f"{path}[]")


def test_every_string_in_every_request_body_is_bounded():
    doc = create_app(build).openapi()
    schemas = doc["components"]["schemas"]
    unbounded = []
    for ops in doc["paths"].values():
        for op in ops.values():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if not body:
                continue
            for path, s in _strings(body["schema"], schemas, set()):
                bounded = {"maxLength", "enum", "const", "format"} & set(s)
                # the text pattern (``api.openapi``) says which characters, not how many; a
                # free JSON value (a note's metadata) is bounded by the body's size only
                free = s.get("description") == FREE_TEXT
                if not bounded and not free and s.get("pattern") in (None, BODY_TEXT):
                    unbounded.append(path)
    assert not unbounded, unbounded
