"""Every read model the program runs, in one list."""

from __future__ import annotations

from projections.base import Projection


def all_projections() -> list[Projection]:
    from projections import analytics_views, catalog_views, inventory_views, order_views
    from projections.locations import LocationsView

    return [
        LocationsView(),
        *catalog_views.VIEWS,
        *inventory_views.VIEWS,
        *order_views.VIEWS,
        *analytics_views.VIEWS,
    ]
