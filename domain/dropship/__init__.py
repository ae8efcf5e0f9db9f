"""The dropship request (stream type ``dropship_request``, one stream per fulfillment plan at
a ``dropship`` location): what we ask the location's vendor to ship, and how far its own
shipments have carried it. ``DropshipRequested`` is the request to the vendor itself: a
notification or webhook channel picks it up from the log."""
