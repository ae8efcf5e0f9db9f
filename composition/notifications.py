"""The notifications capability, one value (``NOTIFICATIONS``): the Notification and template
events (``domain/notification``), staff's handlers (``commands/notifications.py``), the
notifications view, the manager that queues a message per source event and channel
(``commands/notification_queuer.py``), the worker that sends them
(``commands/notification_sender.py``) over SMTP and the SMS provider, and the routes.

Where messages go comes from ``Settings``: ``ECOM_SMTP_URL`` (``ecom serve`` starts the local
server of ``composition/local_mail.py`` when it is unset), ``ECOM_MAIL_DIR`` (the Maildir that
server delivers to, where a send cut off by a crash is looked up), ``ECOM_SMS_URL`` (unset: the
sandbox in ``<data dir>/sms``). Unsubscribe links are signed with a key kept in
``<data dir>/unsubscribe.key`` (made on first use)."""

from __future__ import annotations

from api.routes import notifications as routes
from commands import notifications as handlers
from commands.notification_queuer import NotificationQueuer
from composition.capabilities import Capability, Wiring
from composition.notification_sending import public_url, sender_of, tokens_of
from domain.notification.events import NOTIFICATION_EVENTS, TEMPLATE_EVENTS
from projections.notifications import NotificationsView


def _managers(w: Wiring) -> list:
    return [NotificationQueuer(w.store, tokens_of(w.settings), public_url(w.settings), w.clock)]


class _Sending:
    """The sender as a service of the capability: started on the root's database URL, so it
    wakes on the store's notifications instead of polling."""

    def __init__(self, w: Wiring):
        self._sender = sender_of(w.settings, w.store, w.clock)
        self._url = w.url

    def start(self) -> None:
        self._sender.start(self._url)

    def stop(self) -> None:
        self._sender.stop()


def _services(w: Wiring) -> list:
    return [_Sending(w)]


NOTIFICATIONS = Capability(
    name="notifications",
    events=(*NOTIFICATION_EVENTS, *TEMPLATE_EVENTS),
    handlers=handlers.HANDLERS,
    projections=lambda: [NotificationsView()],
    process_managers=_managers,
    services=_services,
    routers=(routes.router,),
    rules=routes.RULES,
)
