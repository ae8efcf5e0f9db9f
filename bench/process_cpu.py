"""CPU time of groups of processes, read from ``/proc/<pid>/stat``: a process and all its
descendants (a server that forks workers), and a PostgreSQL server's processes (its postmaster
and every backend, whichever database they serve). Used for idle CPU in ``bench/ratios.py``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import psycopg

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields after the command name (state first), or None for a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _parents() -> dict[int, int]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields is not None:
                out[int(name)] = int(fields[1])
    return out


def descendants_and_self(root: int) -> set[int]:
    parents = _parents()
    group, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in group} - group
        group |= more
        grew = bool(more)
    return group if root in parents else set()


def serve_roles(root: int) -> dict[str, set[int]]:
    """``ecom serve``'s processes by role: ``background`` (the supervising process: the views
    and the chainer), ``managers`` (its child running ``processes run``, the process managers)
    and ``api`` (the rest: the HTTP workers, uvicorn's resource tracker)."""
    group = descendants_and_self(root)  # empty once the root is gone
    below = group - {root}
    managers = {pid for pid in below if b"processes\0run" in _cmdline(pid)}
    return {
        "background": group & {root},
        "managers": managers,
        "api": below - managers,
    }


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def ticks(pids: Iterable[int]) -> int:
    """utime + stime of each process, plus those of its children it has reaped (cutime +
    cstime), so a worker or backend that exits inside a window still counts: its time moves
    to its parent, which is in the group too."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(v) for v in fields[11:15])
    return total


def postgres_server_pid(url: str) -> int | None:
    """The postmaster of the server at ``url`` (the parent of this connection's backend), when
    it runs on this machine where ``/proc`` shows it."""
    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        fields = _stat(backend)  # while connected: a closed connection's backend exits
    if fields is None:
        return None
    try:
        with open(f"/proc/{fields[1]}/comm") as f:
            is_postgres = f.read().strip() == "postgres"
    except OSError:
        return None
    return int(fields[1]) if is_postgres else None


def cpu_percent(groups: dict[str, Callable[[], set[int]]], seconds: float) -> dict[str, float]:
    """Percent of one core each group used over the next ``seconds`` (each group's processes
    listed at the start and at the end of the window)."""
    start = {name: ticks(members()) for name, members in groups.items()}
    began = time.monotonic()
    time.sleep(seconds)
    end = {name: ticks(members()) for name, members in groups.items()}
    elapsed = time.monotonic() - began
    return {name: 100 * (end[name] - start[name]) / TICKS_PER_S / elapsed for name in groups}
