"""The fulfillment plan's command, as a message: move the plan and/or set picked and packed
counts per line. (Plans are created, revised, marked shipped and cancelled by the process
managers.)"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from domain.command import Command, whole

PlanStatus = Literal["planned", "picking", "packed", "shipped", "on_hold", "cancelled"]
Count = whole()


class UpdatePlan(Command):
    plan_id: UUID
    status: PlanStatus | None = None
    picked: dict[str, Count] | None = None  # type: ignore[valid-type]
    packed: dict[str, Count] | None = None  # type: ignore[valid-type]
