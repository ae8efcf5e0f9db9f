"""A local HTTP receiver for webhook tests, on a free port of 127.0.0.1, in a thread. What it
answers depends on the path's first segment:

- ``/ok/...``: ``200``;
- ``/flaky/<n>/...``: ``500`` to the first ``n`` attempts of each event id, then ``200``;
- ``/hang/...``: holds the request until ``release`` is set (at most 30 s), then ``200``;
- ``/down/...``: ``500`` while ``down`` is set, ``200`` after.

Every request is recorded when it arrives (its path) and when answered (path, headers, raw
body, whether the answer was 2xx)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    ok: bool

    @property
    def event(self) -> dict:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.arrived: list[str] = []  # the path of each request, when it arrives
        self.release = threading.Event()
        self.down = threading.Event()
        self._tries: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.arrived.append(self.path)
                ok = receiver._answer(self.path, self.headers.get("X-Ecom-Event-Id", ""))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body, ok))
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, path: str, event_id: str) -> bool:
        kind = path.strip("/").split("/")[0]
        if kind == "flaky":
            fails = int(path.strip("/").split("/")[1])
            with self._lock:
                tries = self._tries[(path, event_id)] = self._tries.get((path, event_id), 0) + 1
            return tries > fails
        if kind == "hang":
            self.release.wait(30)
        if kind == "down":
            return not self.down.is_set()
        return True

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
