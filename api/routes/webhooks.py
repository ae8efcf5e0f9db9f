"""Webhooks over HTTP: register (``201 {id, secret}``), list, read, delete, rotate the secret
(the previous one keeps signing beside it for a grace period), and each webhook's deliveries
with an operator's retry of one. ``RULES``: admins manage webhooks; auditors read them and
their deliveries. Merchants do not: a webhook receives every event of its types, whoever's
they are, and nothing scopes the log to one merchant yet."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.schemas import ERRORS, Ack, body_of
from commands.webhook_deliveries import DeliveryTable
from commands.webhook_secrets import key_path, load_or_create_key, secret_of
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from projections import webhooks as view

router = APIRouter(tags=["webhooks"], responses=ERRORS)
RULES = (
    ("POST", "/webhooks", "admin"),
    ("GET", "/webhooks", "admin auditor"),
    ("GET", "/webhooks/{}", "admin auditor"),
    ("DELETE", "/webhooks/{}", "admin"),
    ("POST", "/webhooks/{}/rotate-secret", "admin"),
    ("GET", "/webhooks/{}/deliveries", "admin auditor"),
    ("POST", "/webhook-deliveries/{}/retry", "admin"),
)
RotateBody = body_of(RotateWebhookSecret, path=("webhook_id",))
DeliveryStatus = Literal["pending", "delivered", "dead"]


class WebhookCreated(Ack):
    id: UUID
    #: Signs every delivery (``X-Ecom-Signature``); shown here and on a rotation only.
    secret: str


class SecretRotated(Ack):
    id: UUID
    secret: str
    generation: int
    #: The previous secret signs too (a second ``v1=``) until then.
    previous_secret_valid_until: datetime


class WebhookAck(Ack):
    id: UUID


class WebhookOut(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    status: str
    secret_generation: int
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: UUID
    webhook_id: UUID
    #: The event's id, as the delivery's body and ``X-Ecom-Event-Id`` carry it.
    event_id: str
    position: int
    stream_id: UUID
    type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


def _delivery(row: dict) -> DeliveryOut:
    return DeliveryOut(
        **{k: v for k, v in row.items() if k not in ("stream_version", "event_type")},
        event_id=f"{row['stream_id']}@{row['stream_version']}",
        type=row["event_type"],
    )


def _secret(container, webhook_id: UUID, generation: int) -> str:  # noqa: ANN001
    key = load_or_create_key(key_path(container.settings.data_dir))
    return secret_of(key, webhook_id, generation)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
def register_webhook(
    body: RegisterWebhook, dispatch: DispatchDep, ctx: ContextDep, container: ContainerDep
):
    """A webhook for the event types; a URL that is not http(s) or whose host resolves to a
    loopback, private or link-local address is ``422``."""
    done = dispatch(body, ctx)
    webhook_id = UUID(done.extra["id"])
    return WebhookCreated(
        id=webhook_id,
        secret=_secret(container, webhook_id, done.extra["generation"]),
        version=done.version,
        position=done.position,
    )


@router.get("/webhooks", response_model=WebhookList, dependencies=[read_model(view.NAME)])
def list_webhooks(container: ContainerDep, include_deleted: bool = False):
    rows = view.list_webhooks(container.pool, include_deleted=include_deleted)
    return WebhookList(items=[WebhookOut(**r) for r in rows])


def _found(container, webhook_id: UUID) -> dict:  # noqa: ANN001
    found = view.get_webhook(container.pool, webhook_id)
    if found is None:
        raise ApiError(404, "webhook_not_found", f"Webhook {webhook_id} does not exist.")
    return found


@router.get(
    "/webhooks/{webhook_id}", response_model=WebhookOut, dependencies=[read_model(view.NAME)]
)
def get_webhook(webhook_id: UUID, container: ContainerDep):
    return WebhookOut(**_found(container, webhook_id))


@router.delete("/webhooks/{webhook_id}", response_model=WebhookAck)
def delete_webhook(webhook_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    """No delivery is attempted after this; the deliveries stay readable."""
    done = dispatch(DeleteWebhook(webhook_id=webhook_id), ctx)
    return WebhookAck(id=webhook_id, version=done.version, position=done.position)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=SecretRotated)
def rotate_webhook_secret(
    webhook_id: UUID,
    dispatch: DispatchDep,
    ctx: ContextDep,
    container: ContainerDep,
    body: RotateBody | None = None,
):
    """A new secret; the previous one signs too for ``grace_s`` seconds (default one day)."""
    fields = body.fields() if body is not None else {}
    command = RotateWebhookSecret(webhook_id=webhook_id, **fields)
    done = dispatch(command, ctx)
    generation = done.extra["generation"]
    return SecretRotated(
        id=webhook_id,
        secret=_secret(container, webhook_id, generation),
        generation=generation,
        previous_secret_valid_until=done.extra["previous_valid_until"],
        version=done.version,
        position=done.position,
    )


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    dependencies=[read_model(view.NAME)],
)
def list_deliveries(
    webhook_id: UUID,
    container: ContainerDep,
    status: DeliveryStatus | None = None,
    after: Annotated[int, Query(ge=0, description="Only deliveries of later positions.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    """The webhook's deliveries in the log's order."""
    _found(container, webhook_id)
    rows = DeliveryTable(container.pool).list(webhook_id, status=status, after=after, limit=limit)
    return DeliveryList(items=[_delivery(r) for r in rows])


@router.post("/webhook-deliveries/{delivery_id}/retry", response_model=DeliveryOut)
def retry_delivery(delivery_id: UUID, container: ContainerDep):
    """A dead-lettered (or waiting) delivery is tried again now, its attempts counted afresh;
    one delivered already is ``409``."""
    return _delivery(DeliveryTable(container.pool).retry(delivery_id))
