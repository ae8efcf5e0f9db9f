"""The webhooks capability, one value (``WEBHOOKS``): the Webhook aggregate's events, its
handlers, the webhooks view, its routes and their rows of the authorization table, and the
dispatcher that delivers (a background service: ``commands/webhook_dispatcher.py``).

Its settings come from the environment, read here when the container is built:
``ECOM_WEBHOOKS_MAX_ATTEMPTS`` (8), ``ECOM_WEBHOOKS_BACKOFF_S`` (30, doubling per attempt),
``ECOM_WEBHOOKS_MAX_BACKOFF_S`` (21600), ``ECOM_WEBHOOKS_TIMEOUT_S`` (10, per request),
``ECOM_WEBHOOKS_CONCURRENCY`` (16 requests in flight per webhook), ``ECOM_WEBHOOK_KEY_FILE``
(the key secrets are derived from) and ``ECOM_WEBHOOKS_ALLOW_PRIVATE``
(``commands/webhook_urls.py``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from api.routes import webhooks as routes
from commands import webhooks as handlers
from commands.webhook_dispatcher import WebhookDispatcher
from commands.webhook_secrets import key_path, load_or_create_key
from commands.webhook_sender import DeliveryPolicy
from composition.capabilities import Capability, Wiring
from domain.webhook.events import WEBHOOK_EVENTS
from projections.webhooks import WebhooksView


def delivery_policy(env: Mapping[str, str] | None = None) -> DeliveryPolicy:
    e = os.environ if env is None else env
    return DeliveryPolicy(
        max_attempts=int(e.get("ECOM_WEBHOOKS_MAX_ATTEMPTS", "8")),
        backoff_s=float(e.get("ECOM_WEBHOOKS_BACKOFF_S", "30")),
        max_backoff_s=float(e.get("ECOM_WEBHOOKS_MAX_BACKOFF_S", "21600")),
        timeout_s=float(e.get("ECOM_WEBHOOKS_TIMEOUT_S", "10")),
        concurrency=int(e.get("ECOM_WEBHOOKS_CONCURRENCY", "16")),
    )


def _services(w: Wiring) -> list:
    return [
        WebhookDispatcher(
            w.store,
            w.pool,
            load_or_create_key(key_path(w.settings.data_dir)),
            delivery_policy(),
            listen_url=w.url or None,
        )
    ]


WEBHOOKS = Capability(
    name="webhooks",
    events=WEBHOOK_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [WebhooksView()],
    services=_services,
    routers=(routes.router,),
    rules=routes.RULES,
)
