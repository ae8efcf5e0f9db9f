"""Command handlers: load an aggregate's events, decide with the pure domain, append.

Handlers are short; the shared loop (retry a conflict by re-deciding, honour If-Match, replay
an idempotent result) lives in ``commands.executor``.
"""
