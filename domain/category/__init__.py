"""Category: a node of the catalog tree (one stream per category), with its slug registry.

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its one
decision (create)."""
