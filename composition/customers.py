"""The Customers capability (``composition/capabilities.py``): the Customer aggregate and its
email claims (``domain/customer``), their handlers (``commands/customers.py``), the customers
view (``projections/customers.py``), the routes and their rows of the authorization table
(``api/routes/customers.py``), and ``/customers/{id}`` as a resource a customer owns."""

from __future__ import annotations

from api.routes import customers as routes
from commands import customers as handlers
from composition.capabilities import Capability
from domain.customer.events import CUSTOMER_EVENTS, EMAIL_CLAIM_EVENTS
from projections.customers import CustomersView

CUSTOMERS = Capability(
    name="customers",
    events=(*CUSTOMER_EVENTS, *EMAIL_CLAIM_EVENTS),
    handlers=handlers.HANDLERS,
    projections=lambda: [CustomersView()],
    routers=(routes.router,),
    rules=routes.RULES,
    owned=routes.OWNED,
)
