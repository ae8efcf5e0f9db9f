"""Email by SMTP: the message a queued notification becomes, its sending, and how a send whose
answer was lost is found again.

The message has a plain-text and an HTML part, ``Date``, a ``Message-ID`` that is the
notification's key (``domain.notification.ids.message_key``: the same on every attempt), and a
``List-Unsubscribe`` link that withdraws the customer's email consent. ``EmailChannel.find``
looks the Message-ID up in the Maildir the SMTP server delivers to, when one is known (the
local server's, ``composition/local_mail.py``, which also drops a second copy under a
Message-ID it holds)."""

from __future__ import annotations

import hashlib
import mailbox
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlparse


def maildir_name(message_id: str) -> str:
    """The file name the local server stores a message under: one per Message-ID."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    unsubscribe_url: str | None,
    now: datetime,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


class EmailChannel:
    def __init__(self, smtp_url: str, sender: str, maildir: Path | None = None, timeout_s=10.0):
        url = urlparse(smtp_url)
        if url.scheme != "smtp" or not url.hostname:
            raise ValueError(f"ECOM_SMTP_URL must be smtp://host:port, not {smtp_url!r}")
        self.host, self.port = url.hostname, url.port or 25
        self.sender, self.maildir, self.timeout_s = sender, maildir, timeout_s

    def send(self, msg: EmailMessage) -> None:
        with self.session() as smtp:
            smtp.send(msg)

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        """One SMTP connection for many messages, opened at the first one."""
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    @property
    def can_find(self) -> bool:
        return self.maildir is not None

    def find(self, message_id: str) -> bool:
        """Whether the Maildir holds a message with this Message-ID."""
        if self.maildir is None:
            return False
        name = maildir_name(message_id)
        for sub in ("new", "cur"):
            if any((self.maildir / sub).glob(f"{name}*")):
                return True
        box = mailbox.Maildir(self.maildir, create=False)
        return any((m.get("Message-ID") or "").strip() == message_id for m in box)


class SmtpSession:
    """A connection opened on first use; a message that fails closes it (the next reopens)."""

    def __init__(self, channel: EmailChannel):
        self.channel = channel
        self._smtp: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage) -> None:
        if self._smtp is None:
            c = self.channel
            self._smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
        try:
            self._smtp.send_message(msg)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
