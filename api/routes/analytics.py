"""Analytics over HTTP (analysts): every report takes ``?from=&to=`` (inclusive UTC days) and
answers JSON, or CSV with ``?format=csv`` or ``Accept: text/csv``."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import ORJSONResponse, Response

from api.deps import ContainerDep, read_model
from api.errors import ApiError
from api.schemas import ERRORS, IsoDate
from projections.analytics_common import DateRange
from projections.analytics_fulfillment import (
    cancellation_statistics,
    fulfillment_rate,
    on_time_delivery_rate,
)
from projections.analytics_orders import NAME as FACTS
from projections.analytics_products import product_sales, top_products
from projections.analytics_sales import average_order_value, sales_by_day
from projections.analytics_stock import reorder_suggestions

CSV_OR_JSON = {
    200: {
        "description": "JSON, or CSV with ``?format=csv`` or ``Accept: text/csv``",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
router = APIRouter(prefix="/analytics", tags=["analytics"], responses={**ERRORS, **CSV_OR_JSON})
Format = Annotated[Literal["json", "csv"] | None, Query(alias="format")]


def period(
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> DateRange:
    if start is not None and end is not None and start > end:
        raise ApiError(422, "invalid_date_range", "'from' must not be after 'to'.")
    return DateRange(start, end)


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


def answer(name: str, rows: list[dict] | dict, as_csv: bool) -> Response:
    if not as_csv:
        return ORJSONResponse({"items": rows} if isinstance(rows, list) else rows)
    flat = [_flat(r) for r in (rows if isinstance(rows, list) else [rows])]
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


@router.get("/sales", dependencies=FACTS_READY)
def sales(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Sales by day, channel and currency: orders, units, gross, net, captured, refunded,
    revenue (captured - refunded). Amounts are never summed across currencies."""
    return answer("sales", sales_by_day(container.pool, when), as_csv)


@router.get("/average-order-value", dependencies=FACTS_READY)
def aov(container: ContainerDep, when: PeriodDep, as_csv: CsvDep, by_channel: bool = False):
    """Mean total of the orders placed and not cancelled, per currency (and channel)."""
    return answer(
        "average_order_value",
        average_order_value(container.pool, when, by_channel=by_channel),
        as_csv,
    )


@router.get("/products", dependencies=FACTS_READY)
def products(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Units and revenue per product and currency."""
    return answer("product_sales", product_sales(container.pool, when), as_csv)


@router.get("/top-products", dependencies=FACTS_READY)
def top(
    container: ContainerDep,
    when: PeriodDep,
    as_csv: CsvDep,
    by: Literal["revenue", "units"] = "revenue",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
):
    """The best products per currency by revenue or units."""
    return answer("top_products", top_products(container.pool, when, by=by, limit=limit), as_csv)


@router.get("/fulfillment", dependencies=FACTS_READY)
def fulfillment(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Fulfillment rate and on-time delivery rate of the orders placed in the period."""
    body = {
        "fulfillment": fulfillment_rate(container.pool, when),
        "on_time_delivery": on_time_delivery_rate(container.pool, when),
    }
    return answer("fulfillment", body, as_csv)


@router.get("/cancellations", dependencies=FACTS_READY)
def cancellations(container: ContainerDep, when: PeriodDep, as_csv: CsvDep):
    """Cancelled orders, the amount refunded on them per currency, mean review time."""
    stats = cancellation_statistics(container.pool, when)
    if as_csv:
        return answer("cancellations", stats["by_currency"], True)
    return answer("cancellations", stats, False)


@router.get("/reorder-suggestions", dependencies=[read_model("inventory_levels")])
def reorder(
    container: ContainerDep,
    as_csv: CsvDep,
    location: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
):
    """Low-stock rows and how much to reorder: max(2 x reorder point, max stock - on hand)."""
    return answer(
        "reorder_suggestions",
        reorder_suggestions(container.pool, location=location, limit=limit),
        as_csv,
    )
