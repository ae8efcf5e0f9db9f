"""Location: a warehouse, store, distribution or fulfillment center that holds stock.

``commands`` holds its commands (register, deactivate), ``events`` its events, ``state`` its
decision state and evolution, ``decide`` its decisions."""
