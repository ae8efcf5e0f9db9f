"""Placeholder: filled in by the order work."""

ORDER_EVENTS: tuple = ()
