"""Placeholder: filled in by the catalog work."""

CATALOG_EVENTS: tuple = ()
