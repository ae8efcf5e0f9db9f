"""The Merchant aggregate (stream type ``merchant``, one stream per merchant id): a seller on
the marketplace, its review status and its commission rate with the history of its changes."""
