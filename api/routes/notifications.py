"""Notifications over HTTP: the messages sent to customers (a list by customer, order and
status; one by id; staff's retry of a failed one), the templates they are rendered from
(``GET|PUT /notification-templates/{name}``: a PUT is a decision, refused with ``422`` when
the template does not render against the sample context), and the unsubscribe link an email
carries (``GET``, public: its signed token is the authority; it withdraws the customer's
consent, and following it again changes nothing)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model, request_id_of
from api.errors import ApiError
from api.schemas import ERRORS, Ack, Page, body_of
from commands.context import CommandContext
from commands.unsubscribe_tokens import tokens_in
from domain.customer.commands import WithdrawConsent
from domain.errors import NotFound
from domain.notification.commands import ChangeNotificationTemplate, RetryNotification
from domain.notification.templates import DEFAULTS, NAMES
from projections import notifications as view

router = APIRouter(tags=["notifications"], responses=ERRORS)
_STAFF = "admin merchant"
RULES = (
    ("GET", "/notifications", f"{_STAFF} auditor"),
    ("GET", "/notifications/{}", f"{_STAFF} auditor"),
    ("POST", "/notifications/{}/retry", _STAFF),
    ("GET", "/notification-templates/{}", _STAFF),
    ("PUT", "/notification-templates/{}", "admin"),
    ("GET", "/unsubscribe/{}", "public"),
)
TemplateName = Annotated[str, Path(pattern=r"^[a-z_]{1,64}$")]
Token = Annotated[str, Path(pattern=r"^[0-9a-f]{32}[a-z]{3,5}\.[0-9a-f]{32}$")]
TemplateBody = body_of(ChangeNotificationTemplate, path=("name",))


class Notification(BaseModel):
    id: UUID
    channel: Literal["email", "sms"]
    template: str
    to: str
    status: Literal["queued", "sent", "delivered", "failed"]
    attempts: int
    source_position: int


class Template(BaseModel):
    name: str
    subject: str
    body: str
    #: The template's stream version (0: the default, never changed).
    version: int


class Unsubscribed(BaseModel):
    channel: str
    withdrawn: bool


@router.get(
    "/notifications", response_model=Page[Notification], dependencies=[read_model(view.NAME)]
)
def list_notifications(
    container: ContainerDep,
    customer_id: UUID | None = None,
    order_id: UUID | None = None,
    status: Literal["queued", "sent", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    rows = view.list_notifications(
        container.pool, customer_id=customer_id, order_id=order_id, status=status, limit=limit
    )
    return Page[Notification](items=[Notification(**r) for r in rows])


@router.get(
    "/notifications/{notification_id}",
    response_model=Notification,
    dependencies=[read_model(view.NAME)],
)
def get_notification(notification_id: UUID, container: ContainerDep):
    found = view.get_notification(container.pool, notification_id)
    if found is None:
        raise ApiError(
            404, "notification_not_found", f"Notification {notification_id} does not exist."
        )
    return Notification(**found)


@router.post("/notifications/{notification_id}/retry", response_model=Ack)
def retry_notification(notification_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(RetryNotification(notification_id=notification_id), ctx)
    return Ack(version=done.version, position=done.position)


def _unknown(name: str) -> ApiError:
    return ApiError(404, "template_not_found", f"There is no notification template {name!r}.")


@router.get(
    "/notification-templates/{name}",
    response_model=Template,
    dependencies=[read_model(view.NAME)],
)
def get_template(name: TemplateName, container: ContainerDep):
    if name not in NAMES:
        raise _unknown(name)
    found = view.get_template(container.pool, name)
    if found is None:
        subject, body = DEFAULTS[name]
        return Template(name=name, subject=subject, body=body, version=0)
    return Template(name=name, **found)


@router.put("/notification-templates/{name}", response_model=Ack)
def put_template(name: TemplateName, body: TemplateBody, dispatch: DispatchDep, ctx: ContextDep):
    if name not in NAMES:
        raise _unknown(name)
    done = dispatch(ChangeNotificationTemplate(name=name, **body.fields()), ctx)
    return Ack(version=done.version, position=done.position)


def _unsubscribe(token: str, request: Request, container, dispatch) -> Unsubscribed:  # noqa: ANN001
    found = tokens_in(container.settings.data_dir).verify(token)
    if found is None:
        raise ApiError(404, "unsubscribe_token_invalid", "This unsubscribe link is not valid.")
    customer_id, channel = found
    ctx = CommandContext.new("unsubscribe-link", request_id=request_id_of(request.scope))
    try:
        done = dispatch(WithdrawConsent(customer_id=customer_id, channel=channel), ctx)
    except NotFound:  # a guest, or a customer since forgotten: nothing to withdraw
        return Unsubscribed(channel=channel, withdrawn=False)
    return Unsubscribed(channel=channel, withdrawn=not done.replayed)


@router.get("/unsubscribe/{token}", response_model=Unsubscribed)
def unsubscribe_link(
    token: Token, request: Request, container: ContainerDep, dispatch: DispatchDep
):
    """The ``List-Unsubscribe`` link: the customer's consent on the token's channel withdrawn.
    A link and not a one-click POST: every write but this is refused to auditors and analysts,
    and this one is public (the signed token is its authority)."""
    return _unsubscribe(token, request, container, dispatch)
