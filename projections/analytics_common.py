"""What the analytics queries share: the period and its time zone, the facts tables, money
rounding and rates. Every metric is defined once in ``docs/analytics.md``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg import sql

from domain.money import round_money
from projections.analytics_orders import NAME
from projections.base import live_schema


@dataclass(frozen=True)
class DateRange:
    """Inclusive days in the IANA time zone ``tz`` (validated by the caller); either end may
    be open. A time belongs to the day its local date names in ``tz``."""

    start: date | None = None
    end: date | None = None
    tz: str = "UTC"

    def day(self, column: str) -> sql.Composable:
        """The local day (in ``tz``) of the timestamptz ``column``."""
        return sql.SQL("({} AT TIME ZONE {})::date").format(sql.SQL(column), sql.Literal(self.tz))

    def where(self, column: str) -> tuple[sql.Composable, list]:
        """``column`` (a timestamptz) falls on a day of the period: from the local midnight
        starting ``start`` to the one ending ``end`` (a range an index on it serves)."""
        parts, params = [sql.SQL("TRUE")], []
        tz = sql.Literal(self.tz)
        if self.start is not None:
            parts.append(
                sql.SQL("{} >= (%s::date::timestamp AT TIME ZONE {})").format(sql.SQL(column), tz)
            )
            params.append(self.start)
        if self.end is not None:
            parts.append(
                sql.SQL("{} < ((%s::date + 1)::timestamp AT TIME ZONE {})").format(
                    sql.SQL(column), tz
                )
            )
            params.append(self.end)
        return sql.SQL(" AND ").join(parts), params


def table(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(live_schema(NAME)), sql.Identifier(name))


def money(value: Decimal | None, currency: str) -> str:
    """An amount in the currency's minor unit, rounded half-up, as a string."""
    return str(round_money(Decimal(value or 0), currency))


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 6)


#: Per order (alias ``o``): its merchandise amounts from its lines (``docs/analytics.md``).
ORDER_LINES = sql.SQL(
    "LEFT JOIN LATERAL (SELECT coalesce(sum(quantity * unit_price), 0) AS gross_revenue, "
    "coalesce(sum(cancelled * unit_price), 0) AS cancelled_amount, "
    "coalesce(sum(returned * unit_price), 0) AS returned_amount "
    "FROM {} x WHERE x.order_id = o.order_id) m ON TRUE"
)
