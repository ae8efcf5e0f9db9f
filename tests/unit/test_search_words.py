"""The words of product search (``projections/search_text.py``): one edit means what the
edit distance says, the deletion lookup never misses a one-edit word, and nothing a user types
reaches the full-text query syntax unquoted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from projections import search_text as text

letters = st.text(alphabet="abcdeé1", min_size=0, max_size=8)


def osa(a: str, b: str) -> int:
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@settings(max_examples=300, derandomize=True)
@given(a=letters, b=letters)
def test_one_edit_is_an_edit_distance_of_at_most_one(a, b):
    assert text.one_edit(a, b) == (osa(a, b) <= 1)


@settings(max_examples=300, derandomize=True)
@given(a=letters, b=letters)
def test_words_one_edit_apart_share_a_deletion(a, b):
    if text.one_edit(a, b):
        assert text.deletions(a) & text.deletions(b)


def test_the_typos_of_the_examples_match():
    assert text.matches("sheos", "shoes")
    assert text.query_words("T-Shirt") == ["tshirt"]
    assert "tshirt" in text.words("Organic T-Shirt")
    assert text.matches("tshrit", "tshirt")
    assert not text.matches("red", "bed"), "three letters: no typo allowed"
    assert text.matches("sho", "shoes") and not text.matches("sh", "shoes")


@given(q=st.text(max_size=60))
def test_a_query_becomes_quoted_words_only(q):
    words = text.query_words(q)
    assert all(w and all(ch.isalnum() for ch in w) for w in words)
    literal = text.tsquery_literal([(w, set()) for w in words])
    outside_quotes = "".join(part for i, part in enumerate(literal.split("'")) if i % 2 == 0)
    assert set(outside_quotes) <= set("()|&:* ")


def test_attribute_pairs_and_values_do_not_depend_on_key_order():
    one = {"size": "M", "color": ["red", "blue"], "eco": True}
    other = dict(reversed(list(one.items())))
    assert text.attribute_pairs(one) == text.attribute_pairs(other)
    assert text.attribute_values(one) == text.attribute_values(other)
    assert text.attribute_pairs(one) == ["color=blue", "color=red", "eco=true", "size=M"]
