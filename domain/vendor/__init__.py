"""The Vendor aggregate (stream type ``vendor``, one stream per vendor id): a business that
ships its own stock to our customers from a ``dropship`` location carrying its id."""
