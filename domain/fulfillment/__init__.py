"""Fulfillment plan: one location's pick-and-pack work for an order (one stream per plan).

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its
decisions."""
