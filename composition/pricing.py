"""The pricing capability: the PricingRule aggregate (its events and handlers), the
``pricing_rules`` view, the rule and price routes and their authorization rows. The write side
keeps the active rules (``commands/price_rules.py``) with which placement and the price quote
price every line."""

from __future__ import annotations

from api.routes import pricing as routes
from commands.pricing_rules import HANDLERS
from composition.capabilities import Capability
from domain.pricing.events import PRICING_RULE_EVENTS
from projections.pricing_rules import PricingRulesView

PRICING = Capability(
    name="pricing",
    events=PRICING_RULE_EVENTS,
    handlers=HANDLERS,
    projections=lambda: [PricingRulesView()],
    routers=(routes.router,),
    rules=routes.RULES,
)
