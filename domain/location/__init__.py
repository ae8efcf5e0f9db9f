"""Location: a warehouse, store, distribution or fulfillment center that holds stock.

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its
decisions."""
