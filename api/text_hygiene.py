"""Input hygiene: text that PostgreSQL (``text``, ``jsonb``) or a reader cannot take safely is
refused at the edge, once per request, before anything is decided or written.

Refused, as ``422 invalid_text`` naming the field:

- C0 control characters U+0000-U+001F (NUL above all: PostgreSQL cannot store it in ``text``
  or ``jsonb``, and one such string in an event would stall every view that copies it), DEL
  U+007F and the C1 controls U+0080-U+009F;
- lone surrogates U+D800-U+DFFF (JSON can carry them as ``\\ud800`` escapes; they are not
  Unicode scalar values, so no UTF-8 encoder, orjson's or PostgreSQL's, accepts them).

Where tab, newline and carriage return are allowed: in every string of a JSON body (keys
included). Bodies carry the free text (notes, addresses, descriptions, reasons) where they are
ordinary, and ``text``/``jsonb`` store them as they are; the identifiers a body carries (SKUs,
location codes, currencies, amounts, ids) are held to their own patterns, which exclude them.
In the URL (query and path parameters) nothing is free text, so they are refused there too,
as in the one header a command stores (``X-Correlation-Id``, checked by ``api.deps``).

What is left after this check is valid Unicode without NUL: every string round-trips through
orjson, ``text`` and ``jsonb`` (bidi marks, emoji and noncharacters included; they are text).

Cost: a body is first scanned as bytes (``suspect_body``) for anything that could decode to a
refused character: a raw control byte, a raw C1 or surrogate sequence, or a ``\\u`` escape of
one. Ordinary bodies stop there (under a microsecond for an order, ``bench/text_check.py``);
a suspect body (say one whose client escapes all non-ASCII text) is parsed as the app will
parse it and each key and string is looked at with one compiled pattern, so a paired
surrogate escape (an emoji) or an escaped backslash that only looked suspect passes."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from api.errors import ApiError

#: Characters refused in any string of a body.
_BAD_IN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: Characters refused in a query or path parameter (tab, newline, CR included).
_BAD_IN_URL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

#: Printable ASCII, tab, LF, CR: the bytes deleted from a body (``bytes.translate``, a couple
#: of hundred nanoseconds) to leave the few that may matter, usually none.
_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\n\r"
#: Among what is left, a raw refused character: a C0 byte but tab, LF, CR (raw controls are
#: not valid JSON, but a lenient parse or a UTF-16 body carries them), DEL, C1 in UTF-8 (C2
#: 80-9F) or a surrogate in UTF-8 (ED A0-BF; Python's JSON decoder lets it through). With the
#: ASCII deleted, a lead byte is still followed by its continuation byte.
_SUSPECT_RAW = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xed[\xa0-\xbf]")
#: A JSON escape of one: \b, \f, \u0000-\u001f, \u007f-\u009f, \ud800-\udfff (a literal
#: prefix, so the pattern engine skips from backslash to backslash).
_SUSPECT_ESCAPE = re.compile(rb"\\(?:[bf]|u(?:00[01]|007[fF]|00[89]|[dD][89a-fA-F]))")
#: The bytes of a query string that are never a refused character themselves.
_URL_PLAIN = bytes(range(0x21, 0x7F))
#: A query string's percent-escape of one: %00-%1F, %7F, and C1 as %C2%80-%C2%9F.
_SUSPECT_PERCENT = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF]|[cC]2%[89][0-9a-fA-F])")


def suspect_body(body: bytes) -> bool:
    """True when ``body`` may decode to a refused character (false positives are fine:
    ``check_body`` then looks closer)."""
    rest = body.translate(None, _PLAIN)
    if rest and _SUSPECT_RAW.search(rest):
        return True
    return _SUSPECT_ESCAPE.search(body) is not None


def _refuse(loc: list[str], field: str, text: str, match: re.Match) -> ApiError:
    char = match.group()
    kind = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return ApiError(
        422,
        "invalid_text",
        f"'{field}' holds {kind} (U+{ord(char):04X}). Text may hold no control characters "
        "(but tab, newline and carriage return in a body) and no unpaired surrogates.",
        [
            {
                "loc": loc,
                "field": field,
                "type": "invalid_text",
                "message": f"U+{ord(char):04X} ({kind}) at character {match.start()}",
            }
        ],
    )


def _shown(name: str) -> str:
    """A key or name as it may be shown back: its refused characters escaped."""
    return _BAD_IN_URL.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def check_body(body: bytes) -> None:
    """Raise ``422 invalid_text`` if a key or string of the JSON ``body`` holds a refused
    character; a body that is not JSON is left to the route (it refuses it in its words)."""
    if not suspect_body(body):
        return
    try:
        doc = json.loads(body, strict=False)  # as the app parses it, raw controls allowed
    except (ValueError, RecursionError):
        return
    _walk(doc, [], "")


def _walk(value: Any, loc: list[str], field: str) -> None:
    if isinstance(value, str):
        m = _BAD_IN_BODY.search(value)
        if m:
            raise _refuse(["body", *loc], field or "(body)", value, m)
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = _shown(key)
            child = f"{field}.{shown}" if field else shown
            m = _BAD_IN_BODY.search(key)
            if m:
                raise _refuse(["body", *loc, shown], child, key, m)
            if isinstance(item, (str, dict, list)):
                _walk(item, [*loc, shown], child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (str, dict, list)):
                _walk(item, [*loc, str(i)], f"{field}[{i}]")


def check_query(query_string: bytes) -> None:
    """Raise ``422 invalid_text`` naming the first query parameter (name or value) that
    decodes, as the app decodes it, to a refused character."""
    if not query_string or (
        not query_string.translate(None, _URL_PLAIN) and not _SUSPECT_PERCENT.search(query_string)
    ):
        return
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        for text in (name, value):
            m = _BAD_IN_URL.search(text)
            if m:
                shown = _shown(name)
                raise _refuse(["query", shown], shown, text, m)


def check_path(path: str, path_params: dict[str, Any]) -> None:
    """Raise ``422 invalid_text`` naming the path parameter whose (decoded) value holds a
    refused character; ``path`` is the decoded request path."""
    if not _BAD_IN_URL.search(path):
        return
    for name, value in path_params.items():
        text = str(value)
        m = _BAD_IN_URL.search(text)
        if m:
            raise _refuse(["path", name], name, text, m)
    m = _BAD_IN_URL.search(path)
    assert m is not None
    raise _refuse(["path"], "(path)", path, m)


def check_header(name: str, value: str | None) -> None:
    """Raise ``422 invalid_text`` if header ``name`` (one a command stores, such as
    ``X-Correlation-Id``) holds a control character (HTTP lets C1 through as latin-1)."""
    if value is not None:
        m = _BAD_IN_URL.search(value)
        if m:
            raise _refuse(["header", name], name, value, m)
