"""Inventory: one stream per SKU holding stock per location, reservations, thresholds and
alerts.

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` the
decisions that move stock, ``reservations`` the decisions on reservations, and ``rules`` what
every decision does around its own events. The clock is an input."""
