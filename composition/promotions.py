"""The promotions capability, one value (``PROMOTIONS``): the Promotion aggregate's events
(its code claims, redemptions and the customer order ledger with them), its handlers, the
promotions view, the manager that gives redemptions back when an order is cancelled, its
routes and their rows of the authorization table. What placement does with promotions is
``commands/order_promotions.py`` (the discounts) and ``commands/redemptions.py`` (the
limits, claimed by the placement saga)."""

from __future__ import annotations

from api.routes import promotions as routes
from commands import promotions as handlers
from commands.redemptions import RedemptionReleaser
from composition.capabilities import Capability, Wiring
from domain.promotion.events import ALL_EVENTS
from projections.promotions import PromotionsView


def _managers(w: Wiring) -> list:
    return [RedemptionReleaser(w.write, w.clock)]


PROMOTIONS = Capability(
    name="promotions",
    events=ALL_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [PromotionsView()],
    process_managers=_managers,
    routers=(routes.router,),
    rules=routes.RULES,
)
