"""Every read model the program runs, in one list."""

from __future__ import annotations

from projections.base import Projection


def all_projections() -> list[Projection]:
    from projections.locations import LocationsView

    return [LocationsView()]
