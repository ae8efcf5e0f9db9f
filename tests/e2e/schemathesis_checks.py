"""A schemathesis check (loaded through ``schemathesis.toml``): a request the document calls
valid is never refused for its shape.

``positive_data_acceptance`` is told to accept ``400``, ``412`` and ``422`` for schema-valid
requests because some refusals depend on state, not on the request: a ``min_position`` not
written yet, a cursor this server did not issue, an ``If-Match`` that is not the current
version, an unknown SKU or category, ``from`` after ``to``, a rule across fields (an amount
finer than its currency). This check then fails every such refusal whose error code says the
shape was wrong, that is, where the document and the code disagree."""

from __future__ import annotations

import schemathesis

#: Codes that mean "the request's shape is wrong": never the answer to a schema-valid request.
SHAPE_CODES = frozenset(
    {
        "validation_error",
        "malformed_request",
        "malformed_if_match",
        "malformed_idempotency_key",
        "invalid_text",
        "payload_too_large",
    }
)
#: Pydantic error types that are rules across fields or values, not shapes.
RULE_TYPES = frozenset({"currency_precision"})


def shape_refusal(status: int, body: object) -> str | None:
    """Why an answer refuses a request for its shape, or None when it does not."""
    if status not in (400, 412, 422):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"{status} without the error model"
    code = error.get("code")
    if code == "validation_error":
        details = error.get("details") or []
        if details and all(isinstance(d, dict) and d.get("type") in RULE_TYPES for d in details):
            return None
    if code in SHAPE_CODES:
        return f"{status} {code}: {error.get('message')} {error.get('details')}"
    return None


@schemathesis.check
def schema_valid_requests_are_not_refused_for_their_shape(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if any(v is None or v == "None" for v in (case.path_parameters or {}).values()):
        # the stateful phase followed a link from a field that is null in that answer (a ticket
        # without an order): the path it built is not one the document calls valid
        return None
    try:
        body = response.json()
    except Exception:
        body = None
    why = shape_refusal(response.status_code, body)
    if why is not None:
        raise AssertionError(f"A request the document calls valid was refused: {why}")
    return None
