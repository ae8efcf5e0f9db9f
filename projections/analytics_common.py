"""What the analytics queries share: the date-range filter and money rounding."""

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
    """Inclusive UTC days; either end may be open."""

    start: date | None = None
    end: date | None = None

    def where(self, column: str) -> tuple[sql.Composable, list]:
        parts, params = [sql.SQL("TRUE")], []
        if self.start is not None:
            parts.append(sql.SQL("{} >= %s").format(sql.SQL(column)))
            params.append(self.start)
        if self.end is not None:
            parts.append(sql.SQL("{} < %s::date + 1").format(sql.SQL(column)))
            params.append(self.end)
        return sql.SQL(" AND ").join(parts), params


def table(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(live_schema(NAME)), sql.Identifier(name))


def money(value: Decimal | None, currency: str) -> str:
    """An amount in the currency's minor unit, rounded half-up, as a string."""
    return str(round_money(Decimal(value or 0), currency))


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 6)
