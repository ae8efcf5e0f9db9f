"""Fulfillment over HTTP: plans per location, shipments, tracking events, delivery attempts,
and the pick list of a location."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.routes.orders import require_order
from api.schemas import ERRORS, Page, Request, WholeInt, body_of
from commands import fulfillment, shipments
from domain.errors import NotFound
from domain.fulfillment.commands import UpdatePlan
from domain.shipment.commands import OpenShipment, RecordDeliveryAttempt, RecordTracking
from projections import fulfillment as views
from projections import order_detail
from projections.pick_list import pick_list

router = APIRouter(tags=["fulfillment"], responses=ERRORS)


class LineQuantityIn(Request):
    """Units of one order line (the returns routes' bodies)."""

    line_id: Annotated[str, Field(max_length=100)]
    quantity: WholeInt


UpdatePlanBody = body_of(UpdatePlan, path=("plan_id",))
OpenShipmentBody = body_of(OpenShipment, path=("order_id",))
TrackingEvent = body_of(RecordTracking, path=("shipment_id",))
DeliveryAttempt = body_of(RecordDeliveryAttempt, path=("shipment_id",))


class PlanLineOut(BaseModel):
    line_id: str
    sku: str
    allocated: int
    picked: int
    packed: int
    reservation_id: str


class PlanOut(BaseModel):
    id: str
    order_id: str
    location: str
    status: str
    lines: list[PlanLineOut]
    version: int


class ShipmentAck(BaseModel):
    id: str
    number: int
    carrier: str | None = None
    status: str
    version: int
    position: int


class ShipmentOut(BaseModel):
    id: str
    order_id: str
    number: int
    location: str
    carrier: str
    tracking_number: str | None
    status: str
    dispatched: bool
    lines: list[dict[str, Any]]
    attempts: int
    #: When it was delivered, as recorded (the carrier's time); the return window counts from it.
    delivered_at: str | None = None
    version: int


class CommandAck(BaseModel):
    id: str
    status: str
    version: int
    position: int


class PickItem(BaseModel):
    plan_id: str
    order_id: str
    line_id: str
    sku: str
    allocated: int
    picked: int
    packed: int
    status: str
    priority: str


@router.get(
    "/orders/{order_id}/fulfillment-plans",
    response_model=Page[PlanOut],
    dependencies=[read_model(views.NAME)],
)
def list_plans(order_id: UUID, container: ContainerDep):
    """The order's plans, one per location it was allocated from."""
    items = [PlanOut(**p) for p in views.plans_of_order(container.pool, order_id)]
    return Page[PlanOut](items=items)


@router.get(
    "/fulfillment-plans/{plan_id}", response_model=PlanOut, dependencies=[read_model(views.NAME)]
)
def get_plan(plan_id: UUID, container: ContainerDep, response: Response):
    plan = views.get_plan(container.pool, plan_id)
    if plan is None:
        raise NotFound(f"Fulfillment plan {plan_id} does not exist.", code="plan_not_found")
    response.headers["ETag"] = f'"{plan["version"]}"'
    return PlanOut(**plan)


@router.patch("/fulfillment-plans/{plan_id}", response_model=CommandAck)
def update_plan(
    plan_id: UUID,
    body: UpdatePlanBody,
    dispatch: DispatchDep,
    container: ContainerDep,
    ctx: ContextDep,
):
    """Move the plan (``planned → picking → packed → shipped``, ``on_hold``, ``cancelled``)
    and/or set picked and packed counts per line (packed ≤ picked ≤ allocated)."""
    result = dispatch(UpdatePlan(plan_id=plan_id, **body.fields()), ctx)
    return CommandAck(
        id=str(plan_id),
        status=_status_after(result, lambda: fulfillment.get(container.store, plan_id)[0]),
        version=result.version,
        position=result.position,
    )


def _status_after(result, state) -> str:  # noqa: ANN001
    """The aggregate's status after the command, from its result (``state()`` loads it only
    for a result kept under an idempotency key before results named the status)."""
    status = result.extra.get("status")
    return status if status is not None else state().status


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=ShipmentAck)
def open_shipment(order_id: UUID, body: OpenShipmentBody, dispatch: DispatchDep, ctx: ContextDep):
    """Numbered 1, 2, … per order; more than ordered − cancelled − already in shipments, per
    line, is refused (422 ``over_shipment``) and writes nothing. Without a ``carrier`` the
    best one is chosen (on-time 70 %, cost 30 %; ``domain.shipment.carriers``)."""
    result = dispatch(OpenShipment(order_id=order_id, **body.fields()), ctx)
    return ShipmentAck(
        id=result.extra["id"],
        number=result.extra["number"],
        carrier=result.extra.get("carrier"),
        status="pending",
        version=result.version,
        position=result.position,
    )


@router.get(
    "/orders/{order_id}/shipments",
    response_model=Page[ShipmentOut],
    dependencies=[read_model(views.NAME), read_model(order_detail.NAME)],
)
def list_shipments(order_id: UUID, container: ContainerDep):
    """The order's shipments by number (404 for an order the order view has not seen)."""
    require_order(container, order_id)
    items = [ShipmentOut(**s) for s in views.shipments_of_order(container.pool, order_id)]
    return Page[ShipmentOut](items=items)


@router.get(
    "/shipments/{shipment_id}", response_model=ShipmentOut, dependencies=[read_model(views.NAME)]
)
def get_shipment(shipment_id: UUID, container: ContainerDep, response: Response):
    shipment = views.get_shipment(container.pool, shipment_id)
    if shipment is None:
        raise NotFound(f"Shipment {shipment_id} does not exist.", code="shipment_not_found")
    response.headers["ETag"] = f'"{shipment["version"]}"'
    return ShipmentOut(**shipment)


@router.post("/shipments/{shipment_id}/events", status_code=201, response_model=CommandAck)
def record_event(
    shipment_id: UUID,
    body: TrackingEvent,
    dispatch: DispatchDep,
    container: ContainerDep,
    ctx: ContextDep,
):
    """A carrier's tracking event. ``picked_up`` dispatches: the answer is the shipment's
    (``shipped``), and the fulfillment process manager then commits the stock, records the
    lines shipped on the order and captures the payment (follow the order with
    ``?min_position=``). Late or duplicate events never move the status back."""
    result = dispatch(RecordTracking(shipment_id=shipment_id, **body.fields()), ctx)
    return CommandAck(
        id=str(shipment_id),
        status=_status_after(result, lambda: shipments.get(container.store, shipment_id)[0]),
        version=result.version,
        position=result.position,
    )


class AttemptAck(CommandAck):
    attempt: int


@router.post(
    "/shipments/{shipment_id}/delivery-attempts", status_code=201, response_model=AttemptAck
)
def record_attempt(
    shipment_id: UUID,
    body: DeliveryAttempt,
    dispatch: DispatchDep,
    container: ContainerDep,
    ctx: ContextDep,
):
    """Attempts are numbered 1, 2, … without gaps; success delivers (the order's lines are
    marked delivered by the fulfillment process manager just after); refusal, damage or a
    third failure means ``exception``."""
    result = dispatch(RecordDeliveryAttempt(shipment_id=shipment_id, **body.fields()), ctx)
    return AttemptAck(
        id=str(shipment_id),
        status=_status_after(result, lambda: shipments.get(container.store, shipment_id)[0]),
        version=result.version,
        position=result.position,
        attempt=result.extra.get("attempt")
        or shipments.get(container.store, shipment_id)[0].attempts,
    )


@router.get(
    "/locations/{code}/pick-list",
    response_model=Page[PickItem],
    dependencies=[read_model("pick_list")],
)
def get_pick_list(
    code: str,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """Lines to pick at a location: plans planned, picking or on hold, most urgent first."""
    return Page[PickItem](items=[PickItem(**r) for r in pick_list(container.pool, code, limit)])
