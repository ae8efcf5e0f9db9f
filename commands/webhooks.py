"""The Webhook's command handlers: register (a new id, the URL's host resolved and checked
against ``commands/webhook_urls.py``, the event types against the event registry), rotate the
secret, delete. The answer carries the id and the secret's generation, never the secret
(``commands/webhook_secrets.py`` derives it; the route answers it)."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.webhook_urls import check_endpoint, endpoint_host
from commands.write_side import WriteSide
from domain.webhook import decide as d
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from domain.webhook.state import WEBHOOK, WebhookState


def register(w: WriteSide, c: RegisterWebhook, ctx: CommandContext) -> Outcome:
    webhook_id = uuid4()
    endpoint_host(c.url)  # the syntax first: no lookup for what is refused anyway
    check_endpoint(c.url)
    known = frozenset(w.store.mapper.registry.names())

    def decide(state: WebhookState, _version: int):
        return d.register(state, c, known), {"id": str(webhook_id), "generation": 0}

    return execute(w.store, WEBHOOK, webhook_id, decide, ctx)


def rotate_secret(w: WriteSide, c: RotateWebhookSecret, ctx: CommandContext) -> Outcome:
    def decide(state: WebhookState, _version: int):
        events = d.rotate_secret(state, c, ctx.now)
        rotated = events[0]
        return events, {
            "generation": rotated.generation,
            "previous_valid_until": rotated.previous_valid_until.isoformat(),
        }

    return execute(w.store, WEBHOOK, c.webhook_id, decide, ctx)


def delete(w: WriteSide, c: DeleteWebhook, ctx: CommandContext) -> Outcome:
    return execute(w.store, WEBHOOK, c.webhook_id, lambda s, _: d.delete(s, c), ctx)


HANDLERS = {RegisterWebhook: register, RotateWebhookSecret: rotate_secret, DeleteWebhook: delete}
