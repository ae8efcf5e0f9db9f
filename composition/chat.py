"""The Chat capability (``composition/capabilities.py``): the Chat aggregate (``domain/chat``),
its handlers (``commands/chats.py``; escalation opens a ticket, so it comes with ``SUPPORT``),
the chats view (``projections/chats.py``, which wakes live streams), its routes and rows of the
authorization table (``api/routes/chats.py``, live delivery in ``api/chat_live.py``), and
``/chats/{id}`` as a resource a customer owns."""

from __future__ import annotations

from api.routes import chats as routes
from commands import chats as handlers
from composition.capabilities import Capability
from domain.chat.events import CHAT_EVENTS
from projections.chats import ChatsView

CHAT = Capability(
    name="chat",
    events=CHAT_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [ChatsView()],
    routers=(routes.router,),
    rules=routes.RULES,
    owned=routes.OWNED,
)
