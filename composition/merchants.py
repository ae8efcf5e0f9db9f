"""The merchants capability, one value (``MERCHANTS``): the Merchant and Vendor aggregates and
the dropship request (``domain/merchant``, ``domain/vendor``, ``domain/dropship``), their
handlers (``commands/merchants.py``), the dropship manager (``commands/dropship.py``), the
merchants, merchant ledger and vendors views, and their routes with their rows of the
authorization table. What the core asks of it: placement refuses a suspended merchant's
product (``commands/merchant_facts.py``); a plan at a ``dropship`` location has strategy
``dropship`` (``commands/fulfillment.py`` ``plans_for``)."""

from __future__ import annotations

from api.routes import merchants as merchant_routes
from api.routes import vendors as vendor_routes
from commands import merchants as handlers
from commands.dropship import DropshipManager
from composition.capabilities import Capability, Wiring
from domain.dropship.events import DROPSHIP_EVENTS
from domain.merchant.events import MERCHANT_EVENTS
from domain.vendor.events import VENDOR_EVENTS
from projections.merchant_ledger import MerchantLedgerView
from projections.merchants import MerchantsView
from projections.vendors import VendorsView


def _managers(w: Wiring) -> list:
    return [DropshipManager(w.write, w.clock)]


MERCHANTS = Capability(
    name="merchants",
    events=(*MERCHANT_EVENTS, *VENDOR_EVENTS, *DROPSHIP_EVENTS),
    handlers=handlers.HANDLERS,
    projections=lambda: [MerchantsView(), MerchantLedgerView(), VendorsView()],
    process_managers=_managers,
    routers=(merchant_routes.router, vendor_routes.router),
    rules=(*merchant_routes.RULES, *vendor_routes.RULES),
)
