"""Handlers for the Bundle aggregate (``HANDLERS``), and what a placement asks of bundles: the
price of a bundle line and the components it holds (``prices_for_order``).

A bundle's SKU is claimed in the products' SKU registry in the same transaction as its
``BundleCreated`` (so a SKU is a product's, a variant's or a bundle's, never two). Its
components are checked against the write side: claimed by a product, sellable, priced, in one
currency. A bundle's price is never stored: it is worked out from the components' current
prices (``domain.bundle.pricing``) where it is needed, here at placement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.products import PricedSku, at_own_stream
from commands.products import prices_for_order as product_prices
from commands.stream_states import load_states
from commands.write_side import WriteSide
from domain.bundle.commands import CreateBundle
from domain.bundle.decide import ComponentFacts, create_bundle
from domain.bundle.events import BundleComponent, BundleCreated
from domain.bundle.pricing import bundle_price
from domain.bundle.state import BUNDLE, BundleState, bundle_id_for
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.ids import sku_claim_stream
from domain.money import Money
from domain.product.sku import SkuClaimed
from eventstore.store import StreamAppend


@dataclass(frozen=True, slots=True)
class PricedLineSku:
    """What an order line of ``sku`` pays per unit, and, for a bundle, its components (SKU and
    quantity per bundle; None for a product's or a variant's SKU)."""

    priced: PricedSku
    components: tuple[BundleComponent, ...] | None = None


def is_bundle_sku(w: WriteSide, sku: str) -> bool:
    return w.skus.owner_of(sku) == bundle_id_for(sku)


def _facts(w: WriteSide, skus: Sequence[str]) -> dict[str, ComponentFacts]:
    """What the write side knows of each component SKU (two cached reads at most)."""
    owners = w.skus.owners_of(skus)
    products = w.products.current({o for s, o in owners.items() if o != bundle_id_for(s)})
    facts = {}
    for sku in skus:
        owner = owners.get(sku)
        if owner is None:
            continue
        if owner == bundle_id_for(sku):
            facts[sku] = ComponentFacts("bundle")
            continue
        product = products.get(owner)
        if product is None or not product.exists:
            continue
        variant = product.variant(sku)
        sellable = product.status == "active" and (variant is None or variant.active)
        price = variant.price if variant is not None and variant.price else product.price
        facts[sku] = ComponentFacts("product", sellable=sellable, price=price)
    return facts


def create(w: WriteSide, c: CreateBundle, ctx: CommandContext) -> Outcome:
    """A new bundle; its id is made of its SKU (``bundle_id_for``)."""
    bundle_id = bundle_id_for(c.sku)
    facts = _facts(w, [x.sku for x in c.components])

    def decide(state: BundleState, _version: int):
        if state.exists or w.skus.owner_of(c.sku) is not None:
            raise Conflict(f"SKU '{c.sku}' is already taken.", code="duplicate_sku")
        return create_bundle(state, c, bundle_id, facts), {"id": str(bundle_id)}

    def claim(_state: BundleState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        made = [e for e in events if isinstance(e, BundleCreated)]
        return [
            StreamAppend(
                sku_claim_stream(e.sku),
                0,
                [SkuClaimed(sku=e.sku, product_id=bundle_id, is_bundle=True)],
            )
            for e in made
        ]

    return at_own_stream(w.store, execute(w.store, BUNDLE, bundle_id, decide, ctx, also=claim))


HANDLERS = {CreateBundle: create}


# ---- what a placement asks ---------------------------------------------------------------


def prices_for_order(
    w: WriteSide, skus: Sequence[str], currency: str, since: float | None = None
) -> list[PricedLineSku]:
    """``commands.products.prices_for_order`` for order lines that may name bundles: a
    product's or a variant's SKU as there; a bundle's at the bundle's price over its
    components' current catalog prices, refused like them (unknown, not for sale, not in
    ``currency``). Orders without bundles read nothing more than before."""
    bundles = [s for s in dict.fromkeys(skus) if is_bundle_sku(w, s)]
    if not bundles:
        return [PricedLineSku(p) for p in product_prices(w, skus, currency, since)]
    loaded = load_states(w.store, BUNDLE, [bundle_id_for(s) for s in bundles])
    states = {s: loaded[bundle_id_for(s)].state for s in bundles}
    plain = [s for s in skus if s not in states]
    components = list(dict.fromkeys(x.sku for b in states.values() for x in b.components))
    priced = {p.sku: p for p in product_prices(w, [*plain, *components], currency, since)}
    out = []
    for sku in skus:
        bundle = states.get(sku)
        if bundle is None:
            out.append(PricedLineSku(priced[sku]))
            continue
        if not bundle.exists:  # claimed in a transaction that has not committed yet
            raise InvalidCommand(f"Unknown SKU '{sku}'.", code="unknown_sku", details={"sku": sku})
        unit = {x.sku: priced[x.sku].unit_price.amount for x in bundle.components}
        price = bundle_price(bundle.pricing, bundle.components, unit, currency)  # type: ignore[arg-type]
        line = PricedSku(
            product_id=bundle_id_for(sku),
            sku=sku,
            name=bundle.name,
            unit_price=Money.of(price.price, currency),
        )
        out.append(PricedLineSku(line, bundle.components))
    return out
