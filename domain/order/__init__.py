"""Order: a customer's purchase through one channel, in one currency.

``commands`` holds the commands clients send it (place, modify, notes, tags, timeline entries),
``events`` its events (``ORDER_EVENTS`` for the registry), ``state`` its decision state and
evolution, ``decide`` the decisions on an existing order. Further decision modules, named after
what they decide: ``placement`` (PlaceOrder), ``line_edits``, ``fulfillment`` (splits,
shipments, deliveries, returns, cancellation requests) and ``cancellation_failure``. ``values``
holds its value objects, ``status`` its derived status and legal moves."""
