"""The OpenAPI document and the code agree (``api.openapi``): the header formats the document
gives are the ones the code accepts, the text it allows is the text the edge lets through,
every protected operation lists the error answers it can give, and what the document types
as a date or an integer is read as one (no ``to=0`` taken for 1970, ``3.0`` is an integer)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, TypeAdapter, ValidationError

from api.app import create_app
from api.deps import parse_if_match
from api.errors import ApiError
from api.openapi import BODY_TEXT, URL_TEXT
from api.schemas import IsoDate, IsoDateTime, json_safe, whole
from api.text_hygiene import _BAD_IN_BODY, _BAD_IN_URL
from composition.bootstrap import build

DOC = create_app(build).openapi()
OPERATIONS = [
    (path, method, op)
    for path, ops in DOC["paths"].items()
    for method, op in ops.items()
    if isinstance(op, dict) and "responses" in op
]


def _header(name: str) -> dict:
    for _, _, op in OPERATIONS:
        for param in op.get("parameters", []):
            if param["in"] == "header" and param["name"].lower() == name:
                return param["schema"]
    raise AssertionError(f"no operation documents {name}")


@settings(max_examples=50)
@given(st.one_of(st.integers(0, 10**20).map(str), st.text(max_size=25)))
def test_the_documented_if_match_is_the_one_the_code_accepts(value):
    given_value = value if value.startswith(('"', "W/")) else f'"{value}"'
    documented = re.search(_header("if-match")["pattern"], given_value) is not None
    try:
        parse_if_match(given_value)
        accepted = True
    except ApiError as exc:
        assert (exc.status, exc.code) == (400, "malformed_if_match")
        accepted = False
    assert documented == accepted, given_value


@settings(max_examples=50)
@given(st.text(st.characters(codec="utf-8"), max_size=300))
@example("\n")
@example("a\tb")
def test_the_documented_text_is_the_text_the_edge_lets_through(text):
    """(Unpaired surrogates, also refused, are not text a pattern can name.) The patterns are
    ECMA regular expressions, whose ``$`` is the end of the text; Python's ``$`` also matches
    before a final newline, so the check reads it as ``\\Z``."""
    assert (ecma(BODY_TEXT).search(text) is not None) == (_BAD_IN_BODY.search(text) is None)
    assert (ecma(URL_TEXT).search(text) is not None) == (_BAD_IN_URL.search(text) is None)


def ecma(pattern: str) -> re.Pattern:
    return re.compile(pattern.removesuffix("$") + r"\Z")


def test_every_protected_operation_lists_the_answers_it_can_give():
    missing = []
    for path, method, op in OPERATIONS:
        if path in ("/health", "/ready", "/api/v1/health", "/api/v1/ready"):
            continue
        params = {p["name"].lower() for p in op.get("parameters", [])}
        expected = {"400", "401", "403", "404", "422", "429", "503"}
        if method != "get":
            expected.add("409")
        if "if-match" in params:
            expected.add("412")
        if "requestBody" in op:
            expected.add("413")
        for status in expected - set(op["responses"]):
            missing.append(f"{method.upper()} {path} {status}")
        for status in expected:
            answer = op["responses"].get(status, {})
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
    assert not missing, missing


def test_the_command_headers_are_documented_with_their_formats():
    assert re.search(_header("idempotency-key")["pattern"], "k" * 255)
    assert not re.search(_header("idempotency-key")["pattern"], "k" * 256)
    assert not re.search(_header("idempotency-key")["pattern"], "a key")
    assert not re.search(_header("x-correlation-id")["pattern"], "a\x85b")


def test_analytics_answer_csv_as_documented():
    sales = DOC["paths"]["/api/v1/analytics/sales"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(sales)


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-1", "2026-01-01T00:00:00Z", ""])
def test_a_date_is_a_day_written_as_one(value):
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDate).validate_python(value)
    assert str(TypeAdapter(IsoDate).validate_python("2026-02-28")) == "2026-02-28"


@pytest.mark.parametrize("value", ["0", "2026-01-01", "2026-01-01T00:00:00", "yesterday"])
def test_an_instant_is_rfc_3339_with_its_offset(value):
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDateTime).validate_python(value)
    assert TypeAdapter(IsoDateTime).validate_python("2026-01-01T00:00:00Z").tzinfo is not None


def test_an_integer_is_a_json_integer_within_its_bounds():
    quantity = TypeAdapter(whole(gt=0, le=10))
    assert quantity.validate_json("3.0") == 3 and quantity.validate_json("3") == 3
    for refused in ('"3"', "true", "3.5", "0", "11"):
        with pytest.raises(ValidationError):
            quantity.validate_json(refused)
    assert quantity.json_schema() == {"type": "integer", "exclusiveMinimum": 0, "maximum": 10}


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 1e30, -4.9e276, float("inf")])
def test_a_free_json_number_is_one_the_server_can_serve_back(number):
    """PostgreSQL keeps ``1e30`` exactly and it comes back as an integer, which the JSON
    encoder cannot write: refused on the way in, as the document says."""
    with pytest.raises(ValidationError):
        TypeAdapter(Annotated[dict[str, Any], AfterValidator(json_safe)]).validate_python(
            {"a": [{"b": number}]}
        )
    assert json_safe({"a": [2**63 - 1, -(2**63), 1.5e18]}) == {"a": [2**63 - 1, -(2**63), 1.5e18]}


def test_the_fuzz_check_fails_a_valid_request_refused_for_its_shape_only():
    from tests.e2e.schemathesis_checks import shape_refusal

    def error(code, details=None):
        return {"error": {"code": code, "message": "m", "details": details}}

    assert shape_refusal(422, error("invalid_text")) is not None
    assert shape_refusal(400, error("malformed_if_match")) is not None
    assert shape_refusal(422, error("validation_error", [{"type": "int_type"}])) is not None
    assert shape_refusal(422, {"detail": "not our error model"}) is not None
    # refusals that depend on state, or on a rule across fields, are the document's word
    assert shape_refusal(422, error("position_beyond_head")) is None
    assert shape_refusal(412, error("version_mismatch")) is None
    assert shape_refusal(400, error("malformed_cursor")) is None
    assert shape_refusal(422, error("validation_error", [{"type": "currency_precision"}])) is None
    assert shape_refusal(404, error("not_found")) is None
