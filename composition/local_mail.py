"""The local SMTP server ``ecom serve`` starts when ``ECOM_SMTP_URL`` is unset (and the tests
start on a free port): ``aiosmtpd`` in a thread of its own, storing each message it accepts in a
Maildir, one file per Message-ID (a second message under a Message-ID it holds is accepted and
dropped: the provider's side of sending at most once)."""

from __future__ import annotations

import os
import socket
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller

from commands.email_channel import maildir_name


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class MaildirHandler:
    """Delivers into ``folder`` (a Maildir: ``tmp``, ``new``, ``cur``)."""

    def __init__(self, folder: Path):
        self.folder = folder
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        content = envelope.original_content or envelope.content
        message_id = (message_from_bytes(content).get("Message-ID") or "").strip()
        name = maildir_name(message_id) if message_id else os.urandom(16).hex()
        target = self.folder / "new" / name
        if not target.exists() and not (self.folder / "cur" / name).exists():
            temp = self.folder / "tmp" / f"{name}.{os.getpid()}"
            temp.write_bytes(content)
            os.replace(temp, target)
        return "250 Message accepted for delivery"


class LocalMailServer:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int | None = None):
        self.folder, self.host = folder, host
        self.port = port or free_port(host)
        self._controller = Controller(MaildirHandler(folder), hostname=host, port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> LocalMailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
