"""Waiting for the read side: every view at the head of the log."""

from __future__ import annotations

import time

import httpx


def views_reach_the_head(api: httpx.Client, timeout_s: float = 60) -> int:
    """Return the head once every view (``GET /projections``) has applied every event written
    before the call, with none parked; fail after ``timeout_s`` naming the views behind."""
    head = api.get("/events", params={"limit": 1}).json()["head"]
    deadline = time.monotonic() + timeout_s
    while True:
        rows = api.get("/projections").json()
        behind = [r for r in rows if r["position"] < head or r["lag"] or r.get("parked", 0)]
        if not behind:
            return head
        if any(r.get("parked", 0) for r in behind) or time.monotonic() >= deadline:
            parked = api.get("/projections/parked").json()
            raise AssertionError(f"views stalled below {head}: {behind}; parked: {parked}")
        time.sleep(0.2)
