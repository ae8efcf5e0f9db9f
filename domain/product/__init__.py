"""Product: a sellable item with its variants (one stream per product id).

``events`` holds its events, ``state`` its decision state and evolution, ``decide`` its
decisions; ``sku`` is the SKU registry (one stream per SKU) that keeps SKUs unique."""
