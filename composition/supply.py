"""The supply capability, one value (``SUPPLY``): suppliers, purchase orders and replenishment
(``domain/supply/``), their handlers, the suppliers, purchase orders and replenishment views,
the replenishment process manager (``commands/replenishment.py``), the routes and their rows of
the authorization table."""

from __future__ import annotations

from api.routes import purchase_orders, replenishment, suppliers
from commands import purchase_orders as order_handlers
from commands import suppliers as supplier_handlers
from commands.replenishment import ReplenishmentManager
from composition.capabilities import Capability, Wiring
from domain.supply.events import SUPPLY_EVENTS
from projections.purchase_orders import PurchaseOrdersView
from projections.replenishment import ReplenishmentView
from projections.suppliers import SuppliersView


def _managers(w: Wiring) -> list:
    return [ReplenishmentManager(w.write, w.clock)]


SUPPLY = Capability(
    name="supply",
    events=SUPPLY_EVENTS,
    handlers={**supplier_handlers.HANDLERS, **order_handlers.HANDLERS},
    projections=lambda: [SuppliersView(), PurchaseOrdersView(), ReplenishmentView()],
    process_managers=_managers,
    routers=(suppliers.router, purchase_orders.router, replenishment.router),
    rules=(*suppliers.RULES, *purchase_orders.RULES, *replenishment.RULES),
)
