"""Deterministic stream ids for aggregates keyed by a natural key (a SKU, a location code, a
category slug). The same key always names the same stream, so "create twice" is a version
conflict in the store rather than a race in our code."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2a52-8f1e-4c84-9a55-0d6f3c1f7e10")


def location_stream(code: str) -> UUID:
    return uuid5(NAMESPACE, f"location:{code}")


@lru_cache(maxsize=65_536)
def inventory_stream(sku: str) -> UUID:
    """Cached: the placement saga asks for it several times per order line (uuid5 hashes)."""
    return uuid5(NAMESPACE, f"inventory:{sku}")


def sku_claim_stream(sku: str) -> UUID:
    return uuid5(NAMESPACE, f"sku:{sku}")


def category_slug_stream(slug: str) -> UUID:
    return uuid5(NAMESPACE, f"category-slug:{slug}")


def channel_order_stream(channel: str, channel_order_id: str) -> UUID:
    return uuid5(NAMESPACE, f"channel-order:{channel}:{channel_order_id}")


@lru_cache(maxsize=8_192)
def payment_stream(order_id: UUID) -> UUID:
    """Cached: the placement saga asks for it several times per order in a batch."""
    return uuid5(NAMESPACE, f"payment:{order_id}")


def cancellation_request_stream(request_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"cancellation-request:{request_id}")


def plan_stream(order_id: UUID, location: str) -> UUID:
    return uuid5(NAMESPACE, f"fulfillment-plan:{order_id}:{location}")


def customer_email_stream(email_key: str) -> UUID:
    """The claim of an email address, case-folded (``domain.customer.contact.email_key``)."""
    return uuid5(NAMESPACE, f"customer-email:{email_key}")
