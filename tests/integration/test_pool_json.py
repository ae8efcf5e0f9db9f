"""The read-model pool reads ``json``/``jsonb`` columns with orjson (``eventstore.database.
json_loads``), yet every document reads back exactly as ``json.loads`` would read it: an
integer beyond 64 bits stays an exact integer, not a float."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from eventstore.database import json_loads, make_pool

#: Text PostgreSQL stores (no NUL, no lone surrogate).
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def pool(database_url):
    p = make_pool(database_url, max_size=1)
    yield p
    p.close()


def test_an_integer_beyond_64_bits_reads_back_exact(pool):
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT %s::jsonb, %s::json",
            (Jsonb({"n": 2**64, "m": -(2**63) - 1}), json.dumps({"n": 10**25})),
        ).fetchone()
    assert row == ({"n": 2**64, "m": -(2**63) - 1}, {"n": 10**25})
    assert isinstance(row[0]["n"], int)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON_VALUES)
def test_every_document_reads_back_as_json_loads_reads_its_text(pool, value):
    with pool.connection() as conn:
        as_read, text = conn.execute(
            "SELECT d, d::text FROM (SELECT %s::jsonb AS d) q", (json.dumps(value),)
        ).fetchone()
    assert as_read == json.loads(text)
    assert json_loads(text.encode()) == json.loads(text)
