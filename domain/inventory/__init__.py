"""Inventory: one stream per SKU holding stock per location, reservations, thresholds and
alerts. Decisions are pure functions in ``stock`` and ``reservations``; the clock is an input."""

from domain.inventory.events import INVENTORY_EVENTS
from domain.inventory.state import INVENTORY, InventoryState, Level, Reservation

__all__ = ["INVENTORY", "INVENTORY_EVENTS", "InventoryState", "Level", "Reservation"]
