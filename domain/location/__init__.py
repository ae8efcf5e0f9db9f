"""Location: a warehouse, store, distribution or fulfillment center that holds stock."""

from domain.location.events import LOCATION_EVENTS
from domain.location.state import LOCATION, LocationState

__all__ = ["LOCATION", "LOCATION_EVENTS", "LocationState"]
