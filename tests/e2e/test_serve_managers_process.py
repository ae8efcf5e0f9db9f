"""``ecom serve`` runs the process managers in a child process of their own
(``composition/managers_process.py``): the child is there, orders are confirmed through it, a
child killed is started again and the orders placed meanwhile are confirmed, SIGTERM stops it
with the rest, and it stops by itself when the supervisor is killed; with
``ECOM_MANAGERS_APART=0`` the supervising process runs them, as before."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.e2e.conftest import client_for, ecom_serve, running
from tests.e2e.test_order_saga import location, place, settled, stocked_sku


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` -> its command line."""
    out: dict[int, str] = {}
    todo = [pid]
    while todo:
        found = subprocess.run(["pgrep", "-P", str(todo.pop())], capture_output=True, text=True)
        for child in map(int, found.stdout.split()):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    out[child] = f.read().replace(b"\0", b" ").decode()
            except FileNotFoundError:
                continue
            todo.append(child)
    return out


def _managers(pid: int) -> list[int]:
    return [p for p, cmd in _descendants(pid).items() if "processes run --listen" in cmd]


def _confirmed(base: str, container, count: int) -> list[str]:
    with client_for(base, timeout=60) as api:
        sku = stocked_sku(container, api, (location(api, 1), count))
        orders = [place(api, sku, 1)["id"] for _ in range(count)]
        return [settled(api, order_id)["status"] for order_id in orders]


def test_managers_run_in_a_child_that_is_started_again_when_it_dies(database_url, container):
    with ecom_serve(database_url) as (proc, base):
        first = _managers(proc.pid)
        assert len(first) == 1, _descendants(proc.pid)
        assert _confirmed(base, container, 2) == ["confirmed"] * 2

        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not (again := _managers(proc.pid)) or again == first:
            assert time.monotonic() < deadline, "the managers' process was not started again"
            time.sleep(0.1)
        assert _confirmed(base, container, 3) == ["confirmed"] * 3
        everyone = list(_descendants(proc.pid))
    assert proc.returncode == 0
    time.sleep(0.5)
    assert not [p for p in everyone if running(p)], "a process outlived serve"


def test_sigterm_stops_the_managers_child_cleanly(database_url, tmp_path):
    # Its thread watching standard input must not abort the interpreter as it exits.
    with open(tmp_path / "stderr", "w+") as err:
        with ecom_serve(database_url, stderr=err) as (proc, _base):
            assert len(_managers(proc.pid)) == 1
        assert proc.returncode == 0
        err.seek(0)
        assert "Fatal Python error" not in err.read()


def test_with_managers_apart_off_the_supervisor_runs_them(database_url, container):
    with ecom_serve(database_url, ECOM_MANAGERS_APART="0") as (proc, base):
        assert _managers(proc.pid) == []
        assert _confirmed(base, container, 2) == ["confirmed"] * 2
    assert proc.returncode == 0


def test_the_managers_child_does_not_outlive_a_killed_supervisor(database_url):
    with ecom_serve(database_url) as (proc, _base):
        everyone = _descendants(proc.pid)
        managers = _managers(proc.pid)
        assert len(managers) == 1
        proc.kill()  # no clean-up of its own: the child must see its standard input close
        proc.wait(10)
        try:
            deadline = time.monotonic() + 20
            while running(managers[0]):
                assert time.monotonic() < deadline, "the managers' process outlived serve"
                time.sleep(0.1)
        finally:
            for pid in everyone:  # the HTTP worker, orphaned too, is not the subject here
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
