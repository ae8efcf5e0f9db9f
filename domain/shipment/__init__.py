"""Shipment: a parcel of an order, numbered 1, 2, … per order (one stream per shipment).

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its
decisions, ``carriers`` the carrier choice."""
