"""The customer segments: one fixed vocabulary, shared by customers, pricing and promotions.

A segment outside it is refused (``422 unknown_segment``). Adding one is a change here (and in
``docs/api.md``); a segment already assigned is never removed from the list, so history replays."""

from __future__ import annotations

SEGMENTS: tuple[str, ...] = ("standard", "vip", "wholesale", "employee", "staff_discount")
DEFAULT_SEGMENT = "standard"
