"""The OpenAPI document's account of the gateway: bearer authentication on every operation the
rules table (``api.authorization``) does not make public, and the answers the gateway may give
before the route runs (``401``, ``403``, ``429``)."""

from __future__ import annotations

from typing import Any

from api.authorization import compile_rules, rule_for

_REFUSALS = {
    "401": "Missing or invalid bearer token",
    "403": "The caller's role may not use this endpoint",
    "429": "Rate limited; retry after Retry-After seconds",
}


def document_security(schema: dict) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    has_error_model = "ErrorResponse" in components.get("schemas", {})
    rules = compile_rules(open_docs=False, open_metrics=False)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            rule = rule_for(rules, method.upper(), path)
            if rule is not None and rule.public:
                continue
            operation["security"] = [{"bearerAuth": []}]
            for status, description in _REFUSALS.items():
                answer: dict[str, Any] = {"description": description}
                if has_error_model:
                    answer["content"] = {"application/json": {"schema": error_ref}}
                operation["responses"].setdefault(status, answer)
