"""The notification sender killed mid-send, again and again (SIGKILL of a process running only
the sender), against a real SMTP server and a real HTTP SMS receiver: every notification is
delivered in the end (no loss) and none is sent twice (no email's DATA is completed twice under
one Message-ID; the SMS provider holds one message per key)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes
from uuid import UUID, uuid4

import pytest

from commands import notifications as handle
from commands.context import CommandContext
from composition.local_mail import LocalMailServer, MaildirHandler
from domain.notification.commands import QueueNotification
from domain.notification.ids import message_key, notification_stream
from domain.notification.state import NOTIFICATION
from tests.notification_sinks import sms_receiver

KILLS = 20


class CountingHandler(MaildirHandler):
    """Counts every completed DATA by Message-ID (the server itself keeps one per id)."""

    def __init__(self, folder):  # noqa: ANN001
        super().__init__(folder)
        self.completed: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        msg = message_from_bytes(envelope.original_content or envelope.content)
        self.completed[msg["Message-ID"].strip()] += 1
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp(tmp_path):
    server = LocalMailServer(tmp_path / "mail")
    handler = CountingHandler(tmp_path / "mail")
    server._controller.handler = handler
    server.start()
    yield server, handler
    server.stop()


def _queue(store, count: int) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """``count`` notifications of fresh source events, half email, half SMS."""
    out = []
    for i in range(count):
        channel = "email" if i % 2 == 0 else "sms"
        source = f"{uuid4()}@1"
        nid = notification_stream(source, channel)
        to = f"k{i}-{uuid4().hex[:6]}@example.com" if channel == "email" else f"+49170{i:07d}"
        c = QueueNotification(
            notification_id=nid, channel=channel, template="order_confirmed", to=to,
            subject=f"Order {i} confirmed", text=f"Your order {i} is confirmed.", html=None,
            customer_id=uuid4(), order_id=uuid4(), source_event_id=source, source_position=i + 1,
            message_key=message_key(nid),
        )  # fmt: skip
        handle.queue(store, c, CommandContext.new("test"))
        out.append((str(nid), channel, message_key(nid)))
    return out


class Notifiers:
    """Fresh notifier processes, forked by ``notifier_zygote`` (imports paid once)."""

    def __init__(self, env: dict[str, str]):
        self.zygote = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.notifier_zygote"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def start(self) -> int:
        """A new notifier's pid, once it has started sending."""
        self.zygote.stdin.write("fork\n")
        self.zygote.stdin.flush()
        pid, started = None, False
        while pid is None or not started:
            line = self.zygote.stdout.readline().strip()
            assert line, "the notifier zygote died"
            if line == "notifier started":
                started = True
            else:
                pid = int(line)
        return pid

    def close(self) -> None:
        """The zygote kills every notifier still running and ends."""
        self.zygote.stdin.close()
        self.zygote.wait(10)


def _provider_got_more(handler: CountingHandler, sms, timeout_s: float = 60) -> None:  # noqa: ANN001
    """Wait until the providers took another message: the kill then lands mid-send."""
    before = sum(handler.completed.values()) + sms.requests
    deadline = time.monotonic() + timeout_s
    while sum(handler.completed.values()) + sms.requests == before:
        assert time.monotonic() < deadline, "the notifier sent nothing"
        time.sleep(0.001)


def _statuses(store, ids) -> Counter:  # noqa: ANN001
    from uuid import UUID

    from commands.stream_states import load_states

    loaded = load_states(store, NOTIFICATION, [UUID(i) for i in ids])
    return Counter(one.state.status for one in loaded.values())


def test_killed_mid_send_twenty_times_the_sender_loses_nothing_and_sends_nothing_twice(
    container, smtp, tmp_path, database_url
):
    server, handler = smtp
    queued: list[tuple[str, str, str]] = []
    with sms_receiver() as sms:
        env = {
            **os.environ,
            "ECOM_DATABASE_URL": database_url,
            "ECOM_SMTP_URL": server.url,
            "ECOM_MAIL_DIR": str(tmp_path / "mail"),
            "ECOM_SMS_URL": sms.url,
            "ECOM_DATA_DIR": str(tmp_path / "data"),
        }
        rng = random.Random(7)
        notifiers = Notifiers(env)
        try:
            for _ in range(KILLS):
                queued += _queue(container.store, 8)  # always something to cut off
                pid = notifiers.start()
                _provider_got_more(handler, sms)
                time.sleep(rng.choice((0.0, 0.0, 0.002)))
                os.kill(pid, signal.SIGKILL)
            ids = [n for n, _c, _k in queued]
            notifiers.start()
            deadline = time.monotonic() + 90  # the shared server may be short of connections
            while _statuses(container.store, ids)["delivered"] < len(ids):
                assert time.monotonic() < deadline, _statuses(container.store, ids)
                time.sleep(0.1)
        finally:
            notifiers.close()
        emails = [k for _n, c, k in queued if c == "email"]
        texts = [k for _n, c, k in queued if c == "sms"]
        assert {k: handler.completed[k] for k in emails} == {k: 1 for k in emails}
        assert sorted(k for k in sms.messages if k in texts) == sorted(texts)
        resent_texts = sms.requests - len(texts)
    outcomes = _outcomes(container.store, ids)
    # the kills landed mid-send: sends were cut off and settled by the provider's key (an
    # email found, an SMS sent again under its key, an email that never arrived sent again)
    cut_off = outcomes["found"] + resent_texts + outcomes["sent more than once"]
    assert cut_off >= 1, outcomes
    for nid in ids:  # one queuing each, and a send recorded for every delivery
        types = [e.type for e in container.store.load(UUID(nid))]
        assert types.count("notification.NotificationQueued") == 1
        assert types[-1] == "notification.NotificationDelivered"


def _outcomes(store, ids) -> Counter:  # noqa: ANN001
    """How each delivery was learned: ``accepted`` (the provider's answer) or ``found`` (a
    send cut off by a kill, found at the provider), and how many were handed over more than
    once (an email cut off before its server took it)."""
    out: Counter[str] = Counter()
    for nid in ids:
        events = store.load(UUID(nid))
        out[events[-1].data.get("via", "?")] += 1
        out["sent more than once"] += sum(e.type.endswith("Sent") for e in events) > 1
    return out
