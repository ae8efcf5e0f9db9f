"""How the notification sender and the queuer are wired from ``Settings``, without the HTTP
side, so the sender can run in a lean process of its own (``composition/notifier.py``)."""

from __future__ import annotations

from commands.context import Clock, system_clock
from commands.email_channel import EmailChannel
from commands.notification_sender import NotificationSender
from commands.sms_channel import HttpSms, SandboxSms
from commands.unsubscribe_tokens import UnsubscribeTokens, tokens_in
from composition.settings import Settings
from eventstore.store import EventStore

#: Where email goes when no SMTP server is configured: nowhere (each send fails and retries).
UNCONFIGURED_SMTP = "smtp://127.0.0.1:1"


def tokens_of(settings: Settings) -> UnsubscribeTokens:
    return tokens_in(settings.data_dir)


def public_url(settings: Settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def sender_of(
    settings: Settings, store: EventStore, clock: Clock = system_clock
) -> NotificationSender:
    s = settings
    email = EmailChannel(s.smtp_url or UNCONFIGURED_SMTP, s.mail_from, s.mail_dir)
    sms = HttpSms(s.sms_url) if s.sms_url else SandboxSms(s.data_dir / "sms")
    return NotificationSender(store, email, sms, tokens_of(s), public_url(s), clock=clock)
