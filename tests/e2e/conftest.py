"""End-to-end fixtures: the real program under a real ``uvicorn`` process, on a free port,
against the session's database, talked to over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

# The secret every test server verifies with, and generous limits for the functional tests
# (the rate-limit tests start their own server with small ones).
JWT_SECRET = "e2e-" + "s3cret-" * 8
TEST_SERVER_ENV = {
    "ECOM_JWT_SECRET": JWT_SECRET,
    "ECOM_RATE_PER_PRINCIPAL": "100000",
    "ECOM_BURST_PER_PRINCIPAL": "100000",
    "ECOM_RATE_PER_CLIENT": "100000",
    "ECOM_BURST_PER_CLIENT": "100000",
}


def token(role: str = "admin", sub: str = "e2e-admin", **claims) -> str:
    """A bearer token the test servers accept (HS256 with ``JWT_SECRET``)."""
    from api.authentication import AuthConfig, mint

    return mint(AuthConfig("HS256", JWT_SECRET, JWT_SECRET), sub, role, extra=claims or None)


def auth_headers(role: str = "admin", sub: str = "e2e-admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub)}"}


def client_for(
    base_url: str, role: str = "admin", sub: str = "e2e-admin", timeout: float = 30
) -> httpx.Client:
    """An HTTP client rooted at ``<base_url>/api/v1`` sending a token for ``role``/``sub``."""
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers=auth_headers(role, sub), timeout=timeout
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(proc: subprocess.Popen, base: str, timeout_s: float = 60) -> None:
    """Return once ``base`` answers ``/health`` with 200; RuntimeError if ``proc`` exits or
    ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server at {base} did not start")
        time.sleep(0.1)


@contextmanager
def ecom_serve(
    database_url: str, *args: str, stderr: Any = None, **env_extra: str
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``ecom serve`` as ``make run`` starts it (``args``: more of its options), on a free
    port, with ``env_extra`` in its environment (and its standard error to ``stderr``, a file,
    when given); yields the process and its base URL, and stops it with SIGTERM (SIGKILL after
    30 s) unless the test already did."""
    port = _free_port()
    env = {**os.environ, **TEST_SERVER_ENV, "ECOM_DATABASE_URL": database_url, **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "composition.cli", "serve", *args, "--port", str(port),
         "--log-level", "warning"],
        env=env,
        stderr=stderr,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child that its new parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\tZ" not in next(line for line in f if line.startswith("State:"))
    except FileNotFoundError:
        return False


@contextmanager
def running_server(
    database_url: str, *, target: str = "composition.asgi:app", **env_extra: str
) -> Iterator[str]:
    """A uvicorn process serving the program (the app factory ``target``) on a free port;
    yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        **TEST_SERVER_ENV,
        "ECOM_DATABASE_URL": database_url,
        "ECOM_PORT": str(port),
        **env_extra,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base, timeout_s=30)
    except RuntimeError:
        proc.kill()
        raise
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server_url(database_url: str, container) -> Iterator[str]:
    """The program without its process managers: orders stay ``pending``."""
    with running_server(database_url, ECOM_RUN_PROCESSES="0") as base:
        yield base


@pytest.fixture
def api(server_url: str) -> Iterator[httpx.Client]:
    """An HTTP client rooted at ``/api/v1``, sending an admin's bearer token."""
    with client_for(server_url) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The documented error shape, with the expected status (and code)."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()["error"]
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body
