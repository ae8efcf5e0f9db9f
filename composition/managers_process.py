"""The process managers' own process under ``ecom serve``: ``ecom processes run --listen``
started as a child of the supervising process, restarted when it dies, stopped with it.

Why a process of their own: in the supervising process the managers took turns at the GIL
with the views, so an order's saga steps waited for whichever view was applying its batch
(placed → confirmed grew with the views' work, not the saga's). Apart, the saga and the views
run on both cores at once; they share nothing but the store, which each already reads and
writes under its own advisory locks, so where a follower runs changes nothing it decides.

The child inherits the environment ``ecom serve`` settled (the embedded server's URL, the
local SMTP server's), so it serves the same database with the same settings. It runs
``--supervised``: the terminal's Ctrl-C is the supervisor's to handle (it stops the child
after the API), and the child stops by itself when its standard input, whose other end only
the supervisor holds, closes: it never outlives a supervisor that was killed. It is started
after the migrations, and the supervisor waits for its "processes running" line: a child that
cannot start fails ``ecom serve`` at once rather than leaving orders unconfirmed. A child that
exits later (killed, out of memory) is logged to ``ecom.alerts`` and started again after a
pause; every step it repeats is an idempotent replay from its stored position.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

alerts = logging.getLogger("ecom.alerts")
#: How long the child may take to print that it runs, and to stop after SIGTERM.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
#: The pause before a child that exited is started again.
RESTART_PAUSE_S = 1.0
COMMAND = [
    *(sys.executable, "-m", "composition.cli", "processes", "run"),
    *("--listen", "--supervised"),
]


class ManagersProcess:
    """``start`` runs the child and waits until it runs; ``close`` stops it (SIGTERM, then
    SIGKILL after ``STOP_TIMEOUT_S``) and the watcher that restarts it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> ManagersProcess:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="managers-process", daemon=True)
        self._watcher.start()
        return self

    def _spawn(self) -> None:
        proc = subprocess.Popen(  # noqa: S603 - our own command, no shell
            COMMAND,
            env={**os.environ, "ECOM_RUN_PROJECTIONS": "0"},
            stdin=subprocess.PIPE,  # held open by this process: the child stops at its end
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = _first_line(proc, START_TIMEOUT_S)
        if not ready.startswith("processes running"):
            _stop(proc)
            raise RuntimeError(f"the process managers did not start (exit {proc.poll()})")
        with self._lock:
            self._proc = proc
        if self._closing.is_set():  # closed while this one started
            _stop(proc)
            return
        # The rest of its standard output is not ours to read; drained so it never blocks.
        threading.Thread(target=proc.stdout.read, name="managers-stdout", daemon=True).start()

    def _watch(self) -> None:
        while not self._closing.is_set():
            proc = self._proc
            code = proc.wait()
            if self._closing.is_set():
                return
            alerts.error("the process managers' process exited (%s); starting it again", code)
            while not self._closing.wait(RESTART_PAUSE_S):
                try:
                    self._spawn()
                    break
                except Exception:  # noqa: BLE001 - the database may be restarting; try again
                    alerts.exception("the process managers' process did not start again")

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            _stop(proc)
        if self._watcher is not None:
            self._watcher.join(timeout=STOP_TIMEOUT_S)


def _first_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    """The child's first line of output, or "" when it exits or is silent for ``timeout_s``."""
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return found[0] if found else ""


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
