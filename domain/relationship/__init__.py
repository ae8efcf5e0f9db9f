"""Explicit product relationships a merchant declares (cross-sell, up-sell, accessory,
similar): one stream per product (``state.relationships_stream``) holding the products it
points to. ``events``, ``state``, ``commands`` and ``decide`` as for every aggregate; the
recommendations built on them are views (``projections/recommendations.py``)."""
