"""Reviews on PostgreSQL: one review per customer and product even when 20 submissions of
one customer race (real threads), ``verified`` from the write side (a delivered line of the
product on one of the customer's orders), an unknown product refused with nothing written,
and the vote counts of the view equal to the review stream's."""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import pytest

from commands import orders
from commands.context import CommandContext
from domain.errors import Conflict, DomainError, NotFound
from domain.review import commands as cmd
from domain.review.events import ReviewClaimed
from domain.review.state import REVIEW, review_claim_stream
from projections.reviews import NAME, get_review
from tests.factories import active_product, send
from tests.integration.test_process_manager_crash_safety import _delivered_orders, _location


def ctx(actor: str = "tester") -> CommandContext:
    return CommandContext.new(actor)


def submit(container, product_id: UUID, customer_id: UUID, rating: int = 5):
    command = cmd.SubmitReview(
        product_id=product_id, customer_id=customer_id, rating=rating, text="Solid."
    )
    return send(container, command, ctx())


def test_twenty_concurrent_submissions_by_one_customer_make_one_review(container):
    product_id, _sku = active_product(container)
    customer = uuid4()
    start = threading.Barrier(20)
    done, refused, failed = [], [], []

    def one() -> None:
        start.wait()
        try:
            done.append(submit(container, product_id, customer))
        except Conflict as exc:
            refused.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failed, failed
    assert len(done) == 1 and refused == ["review_exists"] * 19
    claim = container.store.load(review_claim_stream(product_id, customer))
    assert [e.to_domain() for e in claim] == [
        ReviewClaimed(review_id=done[0].stream_id, product_id=product_id, customer_id=customer)
    ]


def test_a_review_is_verified_by_a_delivered_line_of_the_product_only(container):
    made = _delivered_orders(container, _location(container))
    order = orders.get(container.store, made.returned)
    product_id = order.lines[0].product_id
    verified = submit(container, product_id, order.customer_id)
    assert verified.extra["verified"] is True
    [submitted] = container.store.load(verified.stream_id)
    assert (submitted.data["verified"], submitted.data["order_id"]) == (True, str(made.returned))

    stranger = submit(container, product_id, uuid4())
    assert stranger.extra["verified"] is False
    other_product, _sku = active_product(container)
    elsewhere = submit(container, other_product, order.customer_id)
    assert elsewhere.extra["verified"] is False


def test_a_review_of_an_unknown_product_is_not_found_and_writes_nothing(container):
    head = container.store.head()
    with pytest.raises(NotFound) as refused:
        submit(container, uuid4(), uuid4())
    assert refused.value.code == "product_not_found"
    assert container.store.head() == head


def test_the_views_vote_counts_are_the_streams(container):
    product_id, _sku = active_product(container)
    review = submit(container, product_id, uuid4()).stream_id
    send(container, cmd.ModerateReview(review_id=review, decision="approve"), ctx("merchant"))
    voters = [uuid4() for _ in range(4)]
    for voter, helpful in [(0, True), (1, True), (2, False), (0, False), (0, False), (3, True)]:
        command = cmd.CastVote(review_id=review, customer_id=voters[voter], helpful=helpful)
        send(container, command, ctx())
    with pytest.raises(DomainError) as own:
        author = REVIEW.fold(e.to_domain() for e in container.store.load(review)).customer_id
        send(container, cmd.CastVote(review_id=review, customer_id=author, helpful=True), ctx())
    assert own.value.code == "own_review"
    container.runner.catch_up([NAME])
    state = REVIEW.fold(e.to_domain() for e in container.store.load(review))
    row = get_review(container.pool, review)
    assert (row["helpful_count"], row["unhelpful_count"]) == (state.helpful, state.unhelpful)
    assert (state.helpful, state.unhelpful) == (2, 2)
