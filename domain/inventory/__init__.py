"""Placeholder: filled in by the inventory work."""

INVENTORY_EVENTS: tuple = ()
