"""The words of product search, as pure functions: how a text becomes words, which words a
query word matches, and how both are written for PostgreSQL's full-text types.

A text's words are its runs of letters and digits, lower-cased (``T-Shirt, 2 pack`` →
``t``, ``shirt``, ``2``, ``pack``), plus each hyphen- or dot-joined run glued together
(``tshirt``), so a query written without the hyphen finds it. A query word ``w`` matches a
document word ``d`` when ``d == w``, when ``d`` starts with ``w`` (``w`` of 3 characters or
more), or when one edit turns ``w`` into ``d`` (``w`` of 4 characters or more; an edit is
inserting, deleting or replacing one character, or swapping two neighbours: ``sheos`` →
``shoes``). A product matches a query when every query word matches one of its words.

The one-edit candidates are found through deletions (the symmetric-delete method): every
lexicon word is stored with the words one deletion makes of it, so the candidates of ``w`` are
the lexicon words sharing one of ``w``'s own deletions (or ``w`` itself); ``one_edit`` keeps
those truly one edit away. The document is a ``tsvector`` of these words weighted A (name), B
(description) and C (attribute values); the query a ``tsquery`` of the candidates, both
written literally (``tsvector_literal``, ``tsquery_literal``) so PostgreSQL's parser never
re-splits them and no character of the user's query reaches the query syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_WORD = re.compile(r"[^\W_]+")
_JOINED = re.compile(r"[^\W_]+(?:[-.'][^\W_]+)+")
#: A word longer than this is cut (tsvector lexemes stop at 2 kB; nobody types 64 letters).
MAX_WORD = 64
#: Shortest query word matched as a prefix, and shortest matched within one edit.
PREFIX_FROM = 3
FUZZY_FROM = 4
#: At most this many words of a query are used (the rest are ignored).
MAX_QUERY_WORDS = 8


def words(text: str | None) -> list[str]:
    """The words of ``text`` in order, then its joined runs (module docstring)."""
    if not text:
        return []
    lowered = text.lower()
    found = [w[:MAX_WORD] for w in _WORD.findall(lowered)]
    for run in _JOINED.findall(lowered):
        found.append("".join(_WORD.findall(run))[:MAX_WORD])
    return found


def attribute_values(attributes: Mapping[str, Any] | None) -> list[str]:
    """Each attribute's value(s) as text, by attribute name (so the order never depends on
    how the object was stored): lists give each element, objects are skipped."""
    out: list[str] = []
    for _, value in sorted((attributes or {}).items()):
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, bool):
                out.append("true" if v else "false")
            elif isinstance(v, str | int | float):
                out.append(str(v))
    return out


def attribute_pairs(attributes: Mapping[str, Any] | None) -> list[str]:
    """``name=value`` for each attribute value (a list gives one pair per element), the form
    the ``attr.<name>=<value>`` filter and the attribute facet use."""
    pairs: list[str] = []
    for name, value in (attributes or {}).items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, bool):
                pairs.append(f"{name}={'true' if v else 'false'}")
            elif isinstance(v, str | int | float):
                pairs.append(f"{name}={v}")
    return sorted(set(pairs))


def deletions(word: str) -> set[str]:
    """The word and every word one deletion makes of it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one insertion, deletion, replacement or swap
    of two neighbouring characters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def query_words(q: str) -> list[str]:
    """The distinct words of a query, in order, at most ``MAX_QUERY_WORDS``. A hyphenated run
    counts as its joined form only (``t-shirt`` → ``tshirt``)."""
    lowered = q.lower()
    out: list[str] = []
    for run in re.findall(r"[^\W_]+(?:[-.'][^\W_]+)*", lowered):
        w = "".join(_WORD.findall(run))[:MAX_WORD]
        if w and w not in out:
            out.append(w)
    return out[:MAX_QUERY_WORDS]


def matches(w: str, d: str) -> bool:
    """Whether query word ``w`` matches document word ``d`` (module docstring)."""
    if d == w:
        return True
    if len(w) >= PREFIX_FROM and d.startswith(w):
        return True
    return len(w) >= FUZZY_FROM and one_edit(w, d)


def _quote(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(weighted: Sequence[tuple[str, Iterable[str]]]) -> str:
    """A ``tsvector`` of the given words, each section (``A`` name, ``B``, ``C``) with its
    weight; positions count up across sections (capped at the type's 16383)."""
    parts: list[str] = []
    position = 0
    for weight, section in weighted:
        for w in section:
            position = min(position + 1, 16383)
            parts.append(f"{_quote(w)}:{position}{weight}")
    return " ".join(parts)


def tsquery_literal(alternatives: Sequence[tuple[str, Iterable[str]]]) -> str:
    """``(w:* | c1 | c2) & (...)``: per query word, itself (as a prefix when long enough) or
    one of its one-edit candidates."""
    groups = []
    for w, candidates in alternatives:
        head = _quote(w) + (":*" if len(w) >= PREFIX_FROM else "")
        rest = [_quote(c) for c in sorted(set(candidates) - {w})]
        groups.append("(" + " | ".join([head, *rest]) + ")")
    return " & ".join(groups)
