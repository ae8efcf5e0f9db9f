"""The commands on a vendor, as messages."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from domain.command import Command, whole


class RegisterVendor(Command):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(min_length=1, max_length=320)]
    lead_time_days: whole(ge=0, le=365)  # type: ignore[valid-type]
