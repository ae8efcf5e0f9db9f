"""Return: delivered units sent back (one stream per return).

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its
decisions; ``window`` is the 30-day return window and ``restock`` where returned units go."""
