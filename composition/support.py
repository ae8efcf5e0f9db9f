"""The Support capability (``composition/capabilities.py``): the Ticket aggregate
(``domain/ticket``), its handlers (``commands/tickets.py``), the tickets view
(``projections/tickets.py``), its routes and rows of the authorization table
(``api/routes/tickets.py``), and ``/tickets/{id}`` as a resource a customer owns."""

from __future__ import annotations

from api.routes import tickets as routes
from commands import tickets as handlers
from composition.capabilities import Capability
from domain.ticket.events import TICKET_EVENTS
from projections.tickets import TicketsView

SUPPORT = Capability(
    name="support",
    events=TICKET_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [TicketsView()],
    routers=(routes.router,),
    rules=routes.RULES,
    owned=routes.OWNED,
)
