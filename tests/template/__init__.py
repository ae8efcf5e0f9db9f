"""The template for a new capability: ``wishlist/`` (a worked example to copy) and its tests.
``docs/architecture.md`` ("Adding a capability") walks through it file by file."""
