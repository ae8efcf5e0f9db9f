"""The edge's text check (``api.text_hygiene``): its fast byte scan never lets through what the
app would decode to a refused character, whatever the JSON writer; what it refuses it names;
and the store refuses an event holding NUL as a second line of defence."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import quote
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import text_hygiene
from api.errors import ApiError
from domain.errors import InvalidCommand
from domain.events import DomainEvent
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta

REFUSED_IN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
REFUSED_IN_URL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, surrogates too
TEXT = st.text(
    st.one_of(ANY_CHAR, st.sampled_from('\\"\x00\t\n\r\x7f\x85\ud800\udc00\U0001f600\u202e')),
    max_size=12,
)


def refusal(call) -> ApiError | None:  # noqa: ANN001
    try:
        call()
    except ApiError as exc:
        assert (exc.status, exc.code) == (422, "invalid_text")
        return exc
    return None


def encodings(doc) -> list[bytes]:  # noqa: ANN001
    """``doc`` as the app may receive it: ASCII with escapes, raw UTF-8 (surrogates as the
    bytes Python's decoder lets through), UTF-16."""
    raw = json.dumps(doc, ensure_ascii=False)
    out = [json.dumps(doc).encode(), raw.encode("utf-8", "surrogatepass")]
    if not REFUSED_IN_BODY.search(raw) or "\x00" in raw:
        out.append(raw.encode("utf-16", "surrogatepass"))
    return out


@settings(max_examples=300, deadline=None)
@given(key=TEXT, value=TEXT, nested=st.booleans())
def test_a_body_is_refused_exactly_when_a_key_or_string_holds_a_refused_character(
    key, value, nested
):
    doc = {"a": [1, {key: value}]} if nested else {key: value}
    expected = bool(REFUSED_IN_BODY.search(key) or REFUSED_IN_BODY.search(value))
    for body in encodings(doc):
        assert json.loads(body) == doc  # as the app parses it
        error = refusal(lambda body=body: text_hygiene.check_body(body))
        assert (error is not None) == expected, (body, error)


@settings(max_examples=200, deadline=None)
@given(name=TEXT, value=TEXT)
def test_a_query_is_refused_exactly_when_a_name_or_value_decodes_to_a_refused_character(
    name, value
):
    # what a client can send: UTF-8, percent-encoded (a lone surrogate cannot be encoded)
    name, value = (s.encode("utf-8", "replace").decode() for s in (name, value))
    query = f"{quote(name)}={quote(value)}&ok=1".encode()
    expected = bool(REFUSED_IN_URL.search(name) or REFUSED_IN_URL.search(value))
    error = refusal(lambda: text_hygiene.check_query(query))
    assert (error is not None) == expected, query
    if error is not None:
        assert error.details[0]["loc"][0] == "query"


def test_the_field_is_named_as_a_path_into_the_body():
    body = b'{"lines": [{"sku": "A"}, {"sku": "B\\u0000"}], "shipping_address": {"name": "x"}}'
    error = refusal(lambda: text_hygiene.check_body(body))
    assert error.details == [
        {
            "loc": ["body", "lines", "1", "sku"],
            "field": "lines[1].sku",
            "type": "invalid_text",
            "message": "U+0000 (a control character) at character 1",
        }
    ]
    assert "lines[1].sku" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b'{"note": "tab\\there\\r\\nnewline"}',
        b'{"note": "a\\\\u0000 is only text"}',  # an escaped backslash, then "u0000"
        b'{"note": "\\ud83d\\ude00 \\u202e \\u00e9 \\uffff"}',  # a pair, bidi, Latin-1, nonchar
        '{"note": "Zoë 😀 \u202e"}'.encode(),
        b"not json \x00 at all",  # left to the route, which refuses it in its own words
    ],
)
def test_free_text_and_what_only_looks_suspect_pass(body):
    assert refusal(lambda: text_hygiene.check_body(body)) is None


def test_a_path_parameter_is_named():
    error = refusal(lambda: text_hygiene.check_path("/inventory/A\x07B", {"sku": "A\x07B"}))
    assert error.details[0]["field"] == "sku"
    assert refusal(lambda: text_hygiene.check_path("/inventory/AB", {"sku": "AB"})) is None


# ---- the store's second line ---------------------------------------------------------------


class Labelled(DomainEvent):
    stream_type: ClassVar[str] = "label"
    text: str


META = EventMeta(datetime(2026, 1, 2, tzinfo=UTC), "alice", "corr", "cause")


def test_the_mapper_refuses_an_event_holding_nul_and_keeps_a_backslash_u_text():
    mapper = EventMapper(EventRegistry([Labelled]))
    with pytest.raises(InvalidCommand) as refused:
        mapper.to_stored(uuid4(), 1, Labelled(text="Ev\x00il"), META)
    assert refused.value.code == "invalid_text"
    stored = mapper.to_stored(uuid4(), 1, Labelled(text="a\\u0000 and \\\\u0000"), META)
    assert mapper.to_recorded(1, uuid4(), 1, stored.topic, stored.state).data == {
        "text": "a\\u0000 and \\\\u0000"
    }
