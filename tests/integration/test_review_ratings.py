"""The reviews view on PostgreSQL: ``product_ratings`` equals a recomputation from the review
streams themselves (approved reviews only) after random sequences of submissions, edits and
moderation decisions (hypothesis), and one customer's review of a product is claimed once."""

from __future__ import annotations

from collections import Counter
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from commands.context import CommandContext
from domain.errors import DomainError
from domain.review import commands as cmd
from domain.review.moderation import APPROVED
from domain.review.state import REVIEW
from projections.base import live_schema
from projections.reviews import NAME, product_rating
from tests.factories import active_product, send

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(0, 1), st.integers(0, 3), st.integers(1, 5)),
        st.tuples(st.just("edit"), st.integers(0, 7), st.integers(1, 5)),
        st.tuples(
            st.just("moderate"), st.integers(0, 7), st.sampled_from(["approve", "reject", "flag"])
        ),
    ),
    min_size=1,
    max_size=25,
)


def ctx() -> CommandContext:
    return CommandContext.new("tester")


def recomputed(container, review_ids: list[UUID], product_id: UUID) -> dict:
    """The rating of ``product_id`` folded from its reviews' streams, not from the view."""
    ratings = []
    for review_id in review_ids:
        state = REVIEW.fold(e.to_domain() for e in container.store.load(review_id))
        if state.product_id == product_id and state.status == APPROVED:
            ratings.append(state.rating)
    counts = Counter(ratings)
    return {
        "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "count": len(ratings),
        "histogram": {str(n): counts[n] for n in range(1, 6)},
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_ratings_equal_a_recomputation_from_the_approved_reviews(container, steps):
    products = [active_product(container)[0] for _ in range(2)]
    customers = [uuid4() for _ in range(4)]
    reviews: list[UUID] = []
    for step in steps:
        try:
            match step:
                case ("submit", p, c, rating):
                    done = send(container, cmd.SubmitReview(product_id=products[p],
                        customer_id=customers[c], rating=rating, text="fine"), ctx())  # fmt: skip
                    reviews.append(done.stream_id)
                case ("edit", r, rating) if reviews:
                    review_id = reviews[r % len(reviews)]
                    send(container, cmd.EditReview(review_id=review_id, rating=rating), ctx())
                case ("moderate", r, decision) if reviews:
                    review_id = reviews[r % len(reviews)]
                    send(
                        container, cmd.ModerateReview(review_id=review_id, decision=decision), ctx()
                    )
        except DomainError as refused:
            assert refused.code in ("review_exists", "illegal_transition"), refused.code
    container.runner.catch_up([NAME])
    for product_id in products:
        got = product_rating(container.pool, product_id)
        want = recomputed(container, reviews, product_id)
        assert got == want
    with container.pool.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.reviews WHERE id = ANY(%s)").format(
                sql.Identifier(live_schema(NAME))
            ),
            (reviews,),
        ).fetchone()
    assert rows[0] == len(reviews)
