"""The Review aggregate: one customer's rating and text of one product, its moderation, the
seller's response and the helpful votes of other customers.

``events`` holds its events (and the claim that makes a review unique per customer and
product), ``state`` its decision state and evolution, ``commands`` its commands, ``decide``
the decisions, ``moderation`` the table of allowed moves between moderation statuses."""
