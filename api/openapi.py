"""The OpenAPI document, completed so that it says what the server does (``install``).

FastAPI writes the document from the routes' types; this adds what the types cannot carry:

- the formats of the command headers, as ``api.deps`` checks them: ``If-Match`` (a version,
  ``"3"``), ``Idempotency-Key`` (1-255 printable ASCII characters) and ``X-Correlation-Id``;
- the text every string may hold (``api.text_hygiene``): no control characters (but tab,
  newline and carriage return in a body) and no unpaired surrogates, as a ``pattern`` on every
  request string that has no stricter format of its own, and on the keys of free-form objects;
- the error answers every operation can give, with the error model: ``400`` (malformed),
  ``401``, ``403``, ``404``, ``422`` (validation), ``429`` (rate limited), ``503`` (database
  unavailable, request timeout, a view lagging), and where they apply ``409`` (a command's
  conflict), ``412`` (``If-Match``) and ``413`` (a body over the limit).

Some refusals depend on state, not on the shape of a request (a position not written yet, an
unknown SKU or category, a cursor this server did not issue, ``from`` after ``to``); the
error code names them, and the operation's ``400``/``422`` description lists them."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from api.deps import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN
from api.request_ids import CORRELATION_ID_PATTERN
from api.schemas import NUMBER_END, NUMBER_MIN

#: What a string of a JSON body may hold (``api.text_hygiene``), as a JSON Schema pattern.
BODY_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
#: What a query or path parameter or a stored header may hold.
URL_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"

#: How a string inside a free JSON value (a note's metadata, a product's attributes) is
#: described: it is bounded by the body's size only.
FREE_TEXT = "Text in a free JSON value, bounded by the request body's size"

_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
_ANSWERS = {
    "400": "Malformed request (body not JSON of the expected shape, a malformed header or cursor)",
    "401": "Missing or invalid bearer token",
    "403": "The caller's role may not use this endpoint",
    "404": "Unknown resource (or another customer's)",
    "422": "Validation failed (shape, text, or a rule of the domain)",
    "429": "Rate limited; retry after Retry-After seconds",
    "503": "Database unavailable, request timed out, view lagging or orders overloaded; retry "
    "after Retry-After seconds",
}
_COMMAND_ANSWERS = {"409": "Conflict: an illegal transition, a duplicate in flight"}
_IF_MATCH_ANSWER = {"412": "If-Match names a version other than the current one"}
_BODY_ANSWER = {"413": "Request body over the limit"}

#: Refusals that depend on state (what has been written), not on the request's shape, by the
#: parameter or path that brings them: listed in the operation's answers.
_STATE_REFUSALS = {
    "min_position": ("422", "`position_beyond_head`: no event has been written at that position"),
    "cursor": ("400", "`malformed_cursor`: a cursor this server did not issue"),
    "from": ("422", "`invalid_date_range`: `from` is after `to`"),
}
_HEADERS = {
    "if-match": {
        "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
        "description": 'The version the command expects, as in the ETag: `"3"`.',
    },
    "idempotency-key": {
        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
        "description": "1-255 printable ASCII characters; the same key and body from the same "
        "caller is applied once.",
    },
    "x-correlation-id": {
        "schema": {"type": "string", "pattern": CORRELATION_ID_PATTERN},
        "description": "1-128 visible ASCII characters: the request's id, answered as "
        "`X-Request-Id` and stored as the correlation id of every event the command writes "
        "and of every step that follows from it.",
    },
}
_PUBLIC = ("/health", "/ready")


def install(app: FastAPI) -> None:
    """Complete ``app``'s document (once, when first asked for) with ``complete``."""
    previous = app.openapi
    done: list[dict] = []

    def openapi() -> dict:
        schema = previous()
        if not done or done[0] is not schema:
            complete(schema)
            done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any]) -> None:
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    request_side = _request_schemas(doc, components)
    for name in request_side:
        _text_patterns(components[name], BODY_TEXT)
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for param in op.get("parameters", []):
                _parameter(param)
            for media in op.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    _text_patterns(media["schema"], BODY_TEXT)
            if not path.endswith(_PUBLIC) and "ErrorResponse" in components:
                _answers(op, method)


def _request_schemas(doc: dict, components: dict) -> set[str]:
    """Names of the component schemas reached from requests (bodies and parameters); a schema
    that responses reach too is split, the request side getting a copy of its own."""

    def refs(node: Any, into: set[str]) -> set[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    into.add(value.rsplit("/", 1)[-1])
                else:
                    refs(value, into)
        elif isinstance(node, list):
            for value in node:
                refs(value, into)
        return into

    def closure(names: set[str]) -> set[str]:
        todo, seen = list(names), set(names)
        while todo:
            for ref in refs(components.get(todo.pop(), {}), set()):
                if ref not in seen:
                    seen.add(ref)
                    todo.append(ref)
        return seen

    ops = [
        op
        for operations in doc.get("paths", {}).values()
        for op in operations.values()
        if isinstance(op, dict)
    ]
    requests = closure(refs([[op.get("requestBody"), op.get("parameters")] for op in ops], set()))
    responses = closure(refs([op.get("responses") for op in ops], set()))
    shared = requests & responses
    for name in shared:  # the request side gets its own copy, so patterns stay on that side
        components[f"{name}-Request"] = copy.deepcopy(components[name])
    renames = {f"#/components/schemas/{n}": f"#/components/schemas/{n}-Request" for n in shared}

    def rename(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and value in renames:
                    node[key] = renames[value]
                else:
                    rename(value)
        elif isinstance(node, list):
            for value in node:
                rename(value)

    if shared:
        for op in ops:
            rename(op.get("requestBody"))
            rename(op.get("parameters"))
        for name in requests - shared:
            rename(components[name])
        for name in shared:
            rename(components[f"{name}-Request"])
    return (requests - shared) | {f"{n}-Request" for n in shared}


def _text_patterns(node: Any, pattern: str) -> None:
    """Give every free string under ``node`` the text it may hold, and every free-form object
    the keys it may have."""
    if isinstance(node, list):
        for item in node:
            _text_patterns(item, pattern)
        return
    if not isinstance(node, dict):
        return
    if node == {} or (set(node) <= {"title", "description", "default"}):  # any JSON value
        node.update(_any_json(pattern))
        return
    kind = node.get("type")
    if kind == "string" and not {"pattern", "format", "enum", "const"} & set(node):
        node["pattern"] = pattern
    if kind == "object" and node.get("additionalProperties") not in (None, False):
        node.setdefault("propertyNames", {}).setdefault("pattern", pattern)
        if node["additionalProperties"] is True:
            node["additionalProperties"] = _any_json(pattern)
    for key, value in node.items():
        if key in ("properties", "$defs"):
            for child in value.values():
                _text_patterns(child, pattern)
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not"):
            _text_patterns(value, pattern)


def _any_json(pattern: str) -> dict:
    """Any JSON value whose strings and keys hold text (a few levels deep)."""
    text: dict = {"type": "string", "pattern": pattern, "description": FREE_TEXT}
    number = {"type": "number", "minimum": NUMBER_MIN, "exclusiveMaximum": NUMBER_END}
    scalar = [text, number, {"type": "boolean"}, {"type": "null"}]
    nested = {
        "anyOf": [
            *scalar,
            {"type": "array", "items": {"anyOf": scalar}},
            {
                "type": "object",
                "propertyNames": {"pattern": pattern},
                "additionalProperties": {"anyOf": scalar},
            },
        ]
    }
    return {
        "anyOf": [
            *scalar,
            {"type": "array", "items": nested},
            {
                "type": "object",
                "propertyNames": {"pattern": pattern},
                "additionalProperties": nested,
            },
        ]
    }


def _parameter(param: dict) -> None:
    name = param.get("name", "").lower()
    if param.get("in") == "header" and name in _HEADERS:
        param.update(copy.deepcopy(_HEADERS[name]))
        return
    if param.get("in") in ("query", "path"):
        _text_patterns(param.get("schema", {}), URL_TEXT)


def _answers(op: dict, method: str) -> None:
    answers = dict(_ANSWERS)
    params = {p.get("name", "").lower() for p in op.get("parameters", [])}
    if method != "get":
        answers.update(_COMMAND_ANSWERS)
    if "if-match" in params:
        answers.update(_IF_MATCH_ANSWER)
    if "requestBody" in op:
        answers.update(_BODY_ANSWER)
    for param, (status, why) in _STATE_REFUSALS.items():
        if param in params:
            answers[status] = f"{answers[status]}; also, whatever the request's shape, {why}"
    responses = op["responses"]
    for status, description in answers.items():
        answer = responses.setdefault(status, {"description": description})
        answer["description"] = description
        # errors are JSON even where the success is not (FastAPI gives them the route's type)
        answer["content"] = {"application/json": {"schema": _ERROR}}
