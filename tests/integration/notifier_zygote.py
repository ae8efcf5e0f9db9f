"""A process that imports the notifier once and forks a fresh one per ``fork`` line on stdin
(answering the child's pid), so a test can start and SIGKILL the sender many times without
paying the imports each time. Each child is ``composition.notifier.main``: its own
connections, its own sender, nothing shared with this parent but the imported code."""

from __future__ import annotations

import os
import signal
import sys

import composition.notifier as notifier


def _reap(alive: set[int]) -> None:
    try:
        while True:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                return
            alive.discard(pid)
    except ChildProcessError:
        return


def main() -> None:
    """At the end of stdin every child still running is killed and waited for."""
    alive: set[int] = set()
    try:
        for line in sys.stdin:
            if line.strip() != "fork":
                break
            pid = os.fork()
            if pid == 0:
                os._exit(notifier.main())
            alive.add(pid)
            print(pid, flush=True)
            _reap(alive)
    finally:
        _reap(alive)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
