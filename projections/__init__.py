"""Read models. Each module holds one view: its tables, the projector that handles only the
event types it needs, and the query functions that read it. ``projections.runner`` moves every
view forward in batches, writing rows and the tracking position in one transaction."""
