"""Notification templates: their names, the defaults, the context every one is rendered with,
and rendering in Jinja2's sandbox.

A template is ``{subject, body}``, both Jinja2 text with ``{{ order.number }}``-style
placeholders over one context shape (``sample_context``): ``order``, ``customer``,
``shipment``, ``attempt``, ``refund``, ``reason`` and ``unsubscribe_url``, the parts an event
does not concern holding ``None``. Rendering runs in a ``SandboxedEnvironment`` with
``StrictUndefined``: a placeholder naming an unknown field, or reaching for Python internals
(``{{ ''.__class__ }}``), fails; ``check_template`` renders a proposed template against the
sample so such a template is refused before it is stored. An email's text part is the body
as rendered; its HTML part the same body rendered with autoescaping, line breaks kept. An SMS
carries the rendered subject line only."""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from domain.errors import InvalidCommand

#: The source event each template tells about (the notification's ``template``).
NAMES = (
    "order_confirmed",
    "order_cancelled",
    "shipment_dispatched",
    "delivery_failed",
    "order_delivered",
    "order_refunded",
)
MAX_SUBJECT, MAX_BODY = 200, 20_000
_FOOTER = "\n\nTo stop these emails: {{ unsubscribe_url }}\n"

DEFAULTS: dict[str, tuple[str, str]] = {
    "order_confirmed": (
        "Order {{ order.number }} confirmed",
        "Hello {{ customer.name }},\n\nyour order {{ order.number }} of {{ order.total }} "
        "{{ order.currency }} is confirmed." + _FOOTER,
    ),
    "order_cancelled": (
        "Order {{ order.number }} cancelled",
        "Hello {{ customer.name }},\n\nyour order {{ order.number }} was cancelled "
        "({{ reason }})." + _FOOTER,
    ),
    "shipment_dispatched": (
        "Order {{ order.number }}: parcel {{ shipment.number }} is on its way",
        "Hello {{ customer.name }},\n\nparcel {{ shipment.number }} of order "
        "{{ order.number }} left with {{ shipment.carrier }}." + _FOOTER,
    ),
    "delivery_failed": (
        "Order {{ order.number }}: delivery attempt {{ attempt.number }} failed",
        "Hello {{ customer.name }},\n\nthe carrier could not deliver parcel "
        "{{ shipment.number }} of order {{ order.number }} ({{ attempt.outcome }})." + _FOOTER,
    ),
    "order_delivered": (
        "Order {{ order.number }}: parcel {{ shipment.number }} delivered",
        "Hello {{ customer.name }},\n\nparcel {{ shipment.number }} of order "
        "{{ order.number }} was delivered." + _FOOTER,
    ),
    "order_refunded": (
        "Order {{ order.number }}: {{ refund.amount }} {{ refund.currency }} refunded",
        "Hello {{ customer.name }},\n\nwe refunded {{ refund.amount }} {{ refund.currency }} "
        "for order {{ order.number }}." + _FOOTER,
    ),
}


def empty_context() -> dict[str, Any]:
    """The context's shape, every leaf ``None``: what a renderer fills in."""
    return {
        "order": {"id": None, "number": None, "total": None, "currency": None},
        "customer": {"name": None},
        "shipment": {"id": None, "number": None, "carrier": None, "tracking_number": None},
        "attempt": {"number": None, "outcome": None, "failure_reason": None},
        "refund": {"amount": None, "currency": None, "reason": None},
        "reason": None,
        "unsubscribe_url": None,
    }


def sample_context() -> dict[str, Any]:
    """Every field filled in: what a proposed template is checked against."""
    return {
        "order": {
            "id": "00000000-0000-0000-0000-000000000001",
            "number": 1001,
            "total": "59.90",
            "currency": "EUR",
        },
        "customer": {"name": "Ada Lovelace"},
        "shipment": {
            "id": "00000000-0000-0000-0000-000000000002",
            "number": 1,
            "carrier": "dhl",
            "tracking_number": "JD0001",
        },
        "attempt": {"number": 1, "outcome": "customer_not_home", "failure_reason": None},
        "refund": {"amount": "10.00", "currency": "EUR", "reason": "returned"},
        "reason": "customer_request",
        "unsubscribe_url": "https://shop.example/api/v1/unsubscribe/token",
    }


_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@lru_cache(maxsize=64)
def _compiled(source: str, html: bool) -> Template:
    """A source compiled once (compiling costs some twenty renders); the handful of
    templates in use stay compiled, a syntax error is raised again on every call."""
    return (_HTML if html else _TEXT).from_string(source)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """``source`` rendered in the sandbox; ``jinja2.TemplateError`` (a ``SecurityError`` among
    them) when it names an unknown field or reaches outside what the sandbox allows."""
    return _compiled(source, html).render(context)


def render_html(body: str, context: dict[str, Any]) -> str:
    """The HTML part: the body autoescaped, its lines as ``<br>``-separated lines."""
    text = render(body, context, html=True)
    lines = "<br>\n".join(text.split("\n"))
    return f"<!DOCTYPE html>\n<html><body><p>{lines}</p></body></html>\n"


def check_name(name: str) -> str:
    if name not in NAMES:
        raise InvalidCommand(
            f"There is no notification template {name!r}.",
            code="template_not_found",
            details={"names": list(NAMES)},
        )
    return name


def check_template(subject: str, body: str) -> None:
    """Refuse a template that does not render against the sample (unknown field, sandbox
    escape, syntax error) or is too long, naming the field at fault."""
    for field, source, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        if len(source) > limit:
            raise InvalidCommand(
                f"The template's {field} is longer than {limit} characters.",
                code="template_too_long",
                details={"field": field, "max_length": limit},
            )
        try:
            render(source, sample_context())
            render(source, sample_context(), html=True)
        except TemplateError as exc:
            raise InvalidCommand(
                f"The template's {field} does not render: {escape(str(exc))[:300]}",
                code="invalid_template",
                details={"field": field},
            ) from None
        except Exception as exc:  # noqa: BLE001 - a template may raise anything a filter can
            raise InvalidCommand(
                f"The template's {field} does not render: {type(exc).__name__}",
                code="invalid_template",
                details={"field": field},
            ) from None
    if "\n" in render(subject, sample_context()) or "\r" in render(subject, sample_context()):
        raise InvalidCommand(
            "The template's subject renders to more than one line.",
            code="invalid_template",
            details={"field": "subject"},
        )
