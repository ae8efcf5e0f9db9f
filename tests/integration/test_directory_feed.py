"""The write side's directories of pricing rules and promotions refreshed by one read
(``commands/directory_feed.py``): a placement that asks both after a rule and a promotion were
written reads the store once and sees both, in the statement that reads its customer and
products; read a few events at a time, the feed folds each directory to the same state as a
read of everything at once, whatever the interleaving of their events."""

from __future__ import annotations

import time
from decimal import Decimal
from uuid import uuid4

from commands import orders
from commands.context import CommandContext
from commands.directory_feed import DirectoryFeed
from commands.payment_gateway import SandboxGateway
from commands.price_rules import PriceRules
from commands.promotion_directory import PromotionDirectory
from commands.write_side import WriteSide
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.pricing.commands import CreatePricingRule, UpdatePricingRule
from domain.pricing.rules import RuleScope
from domain.promotion.commands import ActivatePromotion, CreatePromotion, PausePromotion
from tests.factories import active_product, send


def _rule(container, priority: int = 1, sku: str | None = None):
    rule = CreatePricingRule(
        name="r",
        type="tiered",
        scope=RuleScope(skus=[sku or f"DF-{uuid4().hex[:8]}"]),
        config={"tiers": [{"min": 1, "percent_off": 10}]},
        priority=priority,
    )
    return send(container, rule, CommandContext.new()).stream_id


def _promotion(container):
    code = f"DF{uuid4().hex[:8]}".upper()
    made = CreatePromotion(name="df", code=code, target="order", kind="percentage", value="5")
    promotion_id = send(container, made, CommandContext.new()).stream_id
    send(container, ActivatePromotion(promotion_id=promotion_id), CommandContext.new())
    return promotion_id, code


class _CountedReads:
    """The store, counting ``read_topics`` calls (each still reads the database), and the
    statements that read streams' tails with them (``load_many_and_topics``)."""

    def __init__(self, store):
        self.store, self.reads, self.together = store, 0, 0

    def read_topics(self, after, limit=100):
        self.reads += 1
        return self.store.read_topics(after, limit)

    def load_many_and_topics(self, after, topics_after, limit, keys_of=()):
        self.together += 1
        return self.store.load_many_and_topics(after, topics_after, limit, keys_of)


def test_a_placement_asking_both_directories_reads_the_store_once(container):
    # Given a write side whose directories are up to date
    w = WriteSide.over(container.store, SandboxGateway())
    assert w.price_rules.feed is w.promotions.feed
    w.price_rules.refresh()
    counted = _CountedReads(container.store)
    w.price_rules.feed.store = counted
    # When a rule and a promotion are written, then a request begins and asks both
    rule_id = _rule(container)
    promotion_id, code = _promotion(container)
    began = time.monotonic()
    rules = w.price_rules.active(since=began)
    hit = w.promotions.by_code(code, since=began)
    automatic = w.promotions.automatic(CommandContext.new().now, since=began)
    # Then both were read by one query, and each sees what was written
    assert counted.reads == 1
    assert rule_id in {r.rule_id for r in rules}
    assert hit is not None and hit[0] == promotion_id and hit[1].status == "active"
    assert promotion_id not in {pid for pid, _ in automatic}  # it has a code
    # And a request that began later reads again
    w.price_rules.active(since=time.monotonic())
    assert counted.reads == 2


def test_read_a_few_at_a_time_the_feed_folds_what_a_read_of_everything_folds(container):
    # Given interleaved rule and promotion events (some streams changed several times)
    for i in range(4):
        rule_id = _rule(container, priority=i + 1)
        send(container, UpdatePricingRule(rule_id=rule_id, priority=50 + i), CommandContext.new())
        promotion_id, _ = _promotion(container)
        if i % 2:
            send(container, PausePromotion(promotion_id=promotion_id), CommandContext.new())
    # When one pair of directories is fed three events per topic a read, another all at once
    paged = (PriceRules(container.store), PromotionDirectory(container.store))
    DirectoryFeed(container.store, paged, page=3).refresh()
    whole = (PriceRules(container.store), PromotionDirectory(container.store))
    DirectoryFeed(container.store, whole, page=100_000).refresh()
    # Then both pairs hold the same states, up to the same positions
    for a, b in zip(paged, whole, strict=True):
        assert a.position == b.position > 0
        assert a._states == b._states
    assert paged[0].active() == whole[0].active()
    assert paged[1]._codes == whole[1]._codes


def test_a_placement_reads_its_streams_and_both_directories_in_one_statement(container):
    # Given a write side whose directories are up to date, and an active product
    w = WriteSide.over(container.store, SandboxGateway())
    _, sku = active_product(container, price="20.00")
    w.price_rules.refresh()
    counted = _CountedReads(container.store)
    w.price_rules.feed.store = counted
    # When a rule on its SKU (10 % off) and a promotion are written, then an order is placed
    rule_id = _rule(container, sku=sku)
    promotion_id, code = _promotion(container)
    began = time.monotonic()
    placed = orders.place(
        w,
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=Address(
                name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US"
            ),
            payment=PaymentRef(token="tok"),
        ),
        CommandContext.new("tester"),
    )
    # Then the customer, the product and both directories were read by one statement
    assert (counted.together, counted.reads) == (1, 0)
    # And the order pays the rule's price, and the promotion is known as of that read
    [line] = orders.get(container.store, placed.stream_id).lines
    assert line.unit_price.amount == Decimal("18.00") and rule_id is not None
    hit = w.promotions.by_code(code, since=began)
    assert hit is not None and hit[0] == promotion_id and counted.reads == 0
