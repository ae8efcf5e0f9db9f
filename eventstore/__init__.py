"""The PostgreSQL event store: our mapper and transcoder over ``eventsourcing``'s recorder,
one total order of all events, per-stream optimistic concurrency and idempotent appends."""
