"""Analytics over HTTP (analysts): every metric as ``docs/analytics.md`` defines it. Each
report takes ``?from=&to=`` (inclusive days) and ``?tz=`` (the IANA time zone the days are
in, UTC by default), and answers JSON (its response model, ``api/analytics_models.py``), or
CSV with ``?format=csv`` or ``Accept: text/csv``."""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api import analytics_models as m
from api.deps import ContainerDep, read_model
from api.errors import ApiError
from api.schemas import ERRORS, IsoDate
from projections.analytics_common import DateRange
from projections.analytics_fulfillment import (
    cancellation_reasons,
    cancellation_statistics,
    fulfillment_rate,
    on_time_delivery_rate,
)
from projections.analytics_orders import NAME as FACTS
from projections.analytics_products import product_sales, top_products
from projections.analytics_sales import average_order_value, orders_by_status, sales_by_day
from projections.analytics_stock import reorder_suggestions


def _csv_or_json(model: type[BaseModel]) -> dict:
    """The 200 answer: the model as JSON, or its rows as CSV (one column per field)."""
    return {
        200: {
            "model": model,
            "description": "JSON, or CSV with ``?format=csv`` or ``Accept: text/csv``",
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string", "description": "One row per item."}},
            },
        }
    }


router = APIRouter(prefix="/analytics", tags=["analytics"], responses=ERRORS)
Format = Annotated[Literal["json", "csv"] | None, Query(alias="format")]


@cache
def _zones() -> frozenset[str]:
    """IANA names: the tz database's, less ``localtime`` (the machine's zone, whatever it is)."""
    return frozenset(available_timezones()) - {"localtime"}


def period(
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
    tz: Annotated[
        str,
        Query(
            max_length=64,
            description="IANA time zone of the days (``Europe/Paris``); UTC by default.",
        ),
    ] = "UTC",
) -> DateRange:
    if tz not in _zones():
        raise ApiError(
            422, "unknown_time_zone", f"{tz!r} is not an IANA time zone name.", {"tz": tz}
        )
    if start is not None and end is not None and start > end:
        raise ApiError(422, "invalid_date_range", "'from' must not be after 'to'.")
    return DateRange(start, end, tz)


PeriodDep = Annotated[DateRange, Depends(period)]


def wants_csv(fmt: Format = None, accept: Annotated[str | None, Header()] = None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return accept is not None and "text/csv" in accept and "application/json" not in accept


CsvDep = Annotated[bool, Depends(wants_csv)]


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            out[f"{prefix}{key}"] = value
    return out


def answer(name: str, model: type[BaseModel], body: dict, as_csv: bool, rows=None) -> Response:  # noqa: ANN001
    """``body`` checked against ``model``, as JSON; or ``rows`` (the items by default) as CSV."""
    checked = model.model_validate(body).model_dump(mode="json", exclude_unset=True)
    if not as_csv:
        return Response(orjson.dumps(checked), media_type="application/json")
    flat = [_flat(r) for r in (rows if rows is not None else checked["items"])]
    columns: list[str] = []
    for r in flat:
        columns += [c for c in r if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


FACTS_READY = [read_model(FACTS)]


@router.get("/sales", dependencies=FACTS_READY, responses=_csv_or_json(m.Sales))
def sales(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Per placement day, channel and currency: orders, units and amounts (gross, net sales,
    gross and net revenue, discounts, cancelled and returned amounts, captured, refunded).
    Amounts are never summed across currencies."""
    return answer("sales", m.Sales, {"items": sales_by_day(container.pool, when)}, as_csv)


@router.get(
    "/average-order-value", dependencies=FACTS_READY, responses=_csv_or_json(m.AverageOrderValues)
)
def aov(container: ContainerDep, when: PeriodDep, as_csv: CsvDep, by_channel: bool = False):
    """Net sales over the orders not cancelled whole, per currency (and channel)."""
    rows = average_order_value(container.pool, when, by_channel=by_channel)
    return answer("average_order_value", m.AverageOrderValues, {"items": rows}, as_csv)


@router.get("/products", dependencies=FACTS_READY, responses=_csv_or_json(m.Products))
def products(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Units and revenue (gross and net) per product and currency."""
    rows = product_sales(container.pool, when)
    return answer("product_sales", m.Products, {"items": rows}, as_csv)


@router.get("/top-products", dependencies=FACTS_READY, responses=_csv_or_json(m.TopProducts))
def top(
    container: ContainerDep,
    when: PeriodDep,
    as_csv: CsvDep,
    by: Literal["revenue", "units"] = "revenue",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
):
    """The best products per currency by net revenue or net units."""
    rows = top_products(container.pool, when, by=by, limit=limit)
    return answer("top_products", m.TopProducts, {"items": rows}, as_csv)


@router.get("/fulfillment", dependencies=FACTS_READY, responses=_csv_or_json(m.FulfillmentReport))
def fulfillment(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Fulfillment rate and on-time delivery rate of the orders placed in the period."""
    body = {
        "fulfillment": fulfillment_rate(container.pool, when),
        "on_time_delivery": on_time_delivery_rate(container.pool, when),
    }
    return answer("fulfillment", m.FulfillmentReport, body, as_csv, rows=[body])


@router.get(
    "/cancellations", dependencies=FACTS_READY, responses=_csv_or_json(m.CancellationsReport)
)
def cancellations(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Orders cancelled whole and units cancelled in the period, per currency and reason, the
    amount refunded on the orders cancelled whole, and the mean review time (CSV: the rows
    per currency)."""
    stats = cancellation_statistics(container.pool, when)
    return answer("cancellations", m.CancellationsReport, stats, as_csv, stats["by_currency"])


@router.get(
    "/cancellations/reasons",
    dependencies=FACTS_READY,
    responses=_csv_or_json(m.CancellationReasons),
)
def reasons(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Per cancellation reason and currency: orders cancelled whole, units cancelled (whole
    orders and lines) and their amount, in the period."""
    rows = cancellation_reasons(container.pool, when)
    return answer("cancellation_reasons", m.CancellationReasons, {"items": rows}, as_csv)


@router.get("/orders-by-status", dependencies=FACTS_READY, responses=_csv_or_json(m.OrdersByStatus))
def by_status(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """How many of the orders placed in the period are in each status now (every status)."""
    rows = orders_by_status(container.pool, when)
    return answer("orders_by_status", m.OrdersByStatus, {"items": rows}, as_csv)


@router.get(
    "/reorder-suggestions",
    dependencies=[read_model("inventory_levels")],
    responses=_csv_or_json(m.ReorderSuggestions),
)
def reorder(
    container: ContainerDep,
    as_csv: CsvDep,
    location: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
):
    """Low-stock rows and how much to reorder: the configured reorder quantity, else
    max(2 x reorder point, max stock - on hand)."""
    rows = reorder_suggestions(container.pool, location=location, limit=limit)
    return answer("reorder_suggestions", m.ReorderSuggestions, {"items": rows}, as_csv)
