"""Comparing read-model tables row for row, with a short report when they differ (pytest's
own diff of two large lists is quadratic and can run for many minutes)."""

from __future__ import annotations

from collections.abc import Sequence


def differences(rebuilt: Sequence[tuple], live: Sequence[tuple], limit: int = 3) -> str | None:
    if rebuilt == live:
        return None
    live_keys, rebuilt_keys = set(map(repr, live)), set(map(repr, rebuilt))
    only_rebuilt = [r for r in rebuilt if repr(r) not in live_keys][:limit]
    only_live = [r for r in live if repr(r) not in rebuilt_keys][:limit]
    return (
        f"{len(rebuilt)} rows rebuilt vs {len(live)} live; "
        f"only in rebuilt: {only_rebuilt}; only in live: {only_live}"
    )
