"""Real receivers for the notification tests: the local SMTP server (``aiosmtpd``, a Maildir on
disk) on a free port, and an HTTP SMS provider that keeps one message per ``Idempotency-Key``
(counting every request, so a duplicate send shows)."""

from __future__ import annotations

import json
import mailbox
import threading
from contextlib import contextmanager
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from composition.local_mail import LocalMailServer


class SmsReceiver:
    def __init__(self) -> None:
        self.messages: dict[str, dict] = {}
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.requests += 1
                    receiver.messages.setdefault(self.headers["Idempotency-Key"], body)
                self.send_response(201)
                self.end_headers()

            def log_message(self, *_args) -> None:  # noqa: ANN002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def to(self, number: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages.values() if m["to"] == number]


@contextmanager
def sms_receiver():
    receiver = SmsReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@contextmanager
def smtp_server(folder: Path):
    server = LocalMailServer(folder).start()
    try:
        yield server
    finally:
        server.stop()


def mails(folder: Path, to: str | None = None) -> list:
    """The messages in the Maildir (to ``to``), parsed."""
    box = mailbox.Maildir(folder, factory=None, create=False)
    out = []
    for key in box.iterkeys():
        msg = BytesParser(policy=policy.default).parsebytes(box.get_bytes(key))
        if to is None or msg["To"] == to:
            out.append(msg)
    return out
