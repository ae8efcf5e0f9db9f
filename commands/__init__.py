"""Command handlers: load an aggregate's events, decide with the pure domain, append.

Handlers are short; the shared loop (retry a conflict by re-deciding, honour If-Match, replay
an idempotent result) lives in ``commands.executor``.

The rule: **decisions read the write side only.** Nothing under ``commands/`` or ``domain/``
names a read-model schema (``rm_`` in SQL text) or imports ``projections``; what a decision
needs beyond its own stream comes from event streams (the locations, say, from
``commands.location_directory``). ``tests/unit/test_architecture.py`` enforces it.
"""
