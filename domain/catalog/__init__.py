"""Catalog: products (with variants), categories, and the SKU registry.

CATALOG_EVENTS lists every event class of this package for the event registry."""

from domain.catalog.category_events import CATEGORY_EVENTS
from domain.catalog.product_events import PRODUCT_EVENTS
from domain.catalog.sku import SKU_EVENTS

CATALOG_EVENTS: tuple = (*PRODUCT_EVENTS, *CATEGORY_EVENTS, *SKU_EVENTS)
