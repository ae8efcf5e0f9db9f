"""Catalog: products (with variants), categories, and the SKU registry.

CATALOG_EVENTS lists every event class of this package for the event registry."""

from domain.catalog.sku import SKU_EVENTS

CATALOG_EVENTS: tuple = (*SKU_EVENTS,)
