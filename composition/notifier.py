"""The notification sender alone, in a lean process of its own: ``python -m
composition.notifier`` (the crash tests kill it mid-send; an operator may run it apart from the
API). It builds only what sending needs (the store, knowing the notification events, and the
channels from the environment's ``Settings``), says ``notifier started`` on stdout, and stops
on SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import sys
import threading

from composition.notification_sending import sender_of
from composition.settings import Settings
from domain.notification.events import NOTIFICATION_EVENTS, TEMPLATE_EVENTS
from eventstore.database import make_datastore, make_pool, resolve_database_url
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.privacy import KeyRing
from eventstore.recorder import EcomRecorder
from eventstore.store import EventStore


def main() -> int:
    settings = Settings.from_env()
    url = resolve_database_url(settings.database_url, settings.data_dir)
    datastore = make_datastore(url, pool_size=1, lock_timeout_s=settings.lock_timeout_s)
    pool = make_pool(url, max_size=2)
    registry = EventRegistry((*NOTIFICATION_EVENTS, *TEMPLATE_EVENTS))
    store = EventStore(EcomRecorder(datastore), EventMapper(registry, KeyRing(pool)))
    sender = sender_of(settings, store)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        sender.start(url)
        print("notifier started", flush=True)
        stop.wait()
    finally:
        sender.stop()
        pool.close()
        store.committer.close()
        datastore.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
