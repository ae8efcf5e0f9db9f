"""The Review aggregate, given / when / then: submitting (verified or not, each refusal with its
code), the moderation table ``pending → approved | rejected | flagged``, ``flagged →
approved | rejected``, ``approved → flagged | pending (edited)``, the author's edits, the
seller's response, and helpful votes (one per customer; a changed vote moves the count)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.review import commands as cmd
from domain.review import decide
from domain.review import events as ev
from domain.review.moderation import ALLOWED, OUTCOME, STATUSES
from domain.review.state import REVIEW, ReviewState

RID, PRODUCT, AUTHOR, ORDER = uuid4(), uuid4(), uuid4(), uuid4()
ANN, BOB = uuid4(), uuid4()

SUBMITTED = ev.ReviewSubmitted(product_id=PRODUCT, customer_id=AUTHOR, rating=4, title="Good",
    text="Works.", verified=False, submitted_by="customer")  # fmt: skip
APPROVED = ev.ReviewApproved(moderated_by="merchant")
REJECTED = ev.ReviewRejected(moderated_by="merchant")
FLAGGED = ev.ReviewFlagged(reason="spam?", moderated_by="merchant")
IN = {"pending": (), "approved": (APPROVED,), "rejected": (REJECTED,), "flagged": (FLAGGED,)}


def given(*events: ev.ReviewEvent) -> ReviewState:
    return REVIEW.fold(events)


def submit(**kw) -> cmd.SubmitReview:
    return cmd.SubmitReview(**{"product_id": PRODUCT, "customer_id": AUTHOR, "rating": 4,
                               "text": "Works.", **kw})  # fmt: skip


def moderate(decision: str) -> cmd.ModerateReview:
    return cmd.ModerateReview(review_id=RID, decision=decision)


def vote(voter, helpful: bool) -> cmd.CastVote:
    return cmd.CastVote(review_id=RID, customer_id=voter, helpful=helpful)


# ---- submitting --------------------------------------------------------------------------


def test_a_review_of_a_delivered_product_is_submitted_pending_and_verified():
    [event] = decide.submit(given(), submit(title="Good"), delivered_order=ORDER, by="customer")
    assert event.verified and event.order_id == ORDER
    state = given(event)
    assert (state.status, state.rating, state.verified) == ("pending", 4, True)


def test_without_a_delivered_line_the_review_is_not_verified():
    [event] = decide.submit(given(), submit(), delivered_order=None, by="customer")
    assert (event.verified, event.order_id) == (False, None)


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "5", True])
def test_a_rating_outside_one_to_five_is_refused_by_the_command(rating):
    with pytest.raises(ValidationError):
        submit(rating=rating)


def test_a_rating_outside_one_to_five_is_refused_by_the_decision_too():
    bad = submit().model_copy(update={"rating": 9})
    with pytest.raises(InvalidCommand) as refused:
        decide.submit(given(), bad, delivered_order=None, by="customer")
    assert refused.value.code == "invalid_rating"


def test_a_blank_text_is_refused():
    with pytest.raises(InvalidCommand) as refused:
        decide.submit(given(), submit(text="   "), delivered_order=None, by="customer")
    assert refused.value.code == "blank_text"


def test_a_review_stream_is_submitted_once():
    with pytest.raises(Conflict) as refused:
        decide.submit(given(SUBMITTED), submit(), delivered_order=None, by="customer")
    assert refused.value.code == "review_exists"


# ---- moderation --------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("decision", sorted(OUTCOME))
def test_each_decision_follows_the_moderation_table(status, decision):
    state = given(SUBMITTED, *IN[status])
    target = OUTCOME[decision]
    if target == status:
        assert decide.moderate(state, moderate(decision), by="merchant") == []
    elif target in ALLOWED[status]:
        events = decide.moderate(state, moderate(decision), by="merchant")
        assert REVIEW.fold(events, state).status == target
    else:
        with pytest.raises(IllegalTransition):
            decide.moderate(state, moderate(decision), by="merchant")


def test_a_moderation_decision_records_who_and_why():
    [event] = decide.moderate(given(SUBMITTED), cmd.ModerateReview(review_id=RID,
        decision="flag", reason="abusive"), by="admin")  # fmt: skip
    assert event == ev.ReviewFlagged(reason="abusive", moderated_by="admin")


def test_an_unknown_review_is_not_found():
    with pytest.raises(NotFound) as refused:
        decide.moderate(given(), moderate("approve"), by="merchant")
    assert refused.value.code == "review_not_found"


# ---- edits -------------------------------------------------------------------------------


def test_editing_an_approved_review_sends_it_back_to_pending_with_all_it_now_says():
    [event] = decide.edit(given(SUBMITTED, APPROVED), cmd.EditReview(review_id=RID, rating=2),
                          by="customer")  # fmt: skip
    assert event == ev.ReviewEdited(rating=2, title="Good", text="Works.", edited_by="customer")
    assert given(SUBMITTED, APPROVED, event).status == "pending"


def test_an_edit_that_changes_nothing_writes_nothing():
    same = cmd.EditReview(review_id=RID, rating=4, text="Works.")
    assert decide.edit(given(SUBMITTED, APPROVED), same, by="customer") == []


@pytest.mark.parametrize("status", ["rejected", "flagged"])
def test_a_rejected_or_flagged_review_cannot_be_edited(status):
    with pytest.raises(IllegalTransition):
        decide.edit(given(SUBMITTED, *IN[status]), cmd.EditReview(review_id=RID, text="New"),
                    by="customer")  # fmt: skip


# ---- response ----------------------------------------------------------------------------


def test_the_seller_responds():
    [event] = decide.respond(given(SUBMITTED), cmd.RespondToReview(review_id=RID,
        text="Thanks!"), by="merchant")  # fmt: skip
    assert event == ev.SellerResponded(text="Thanks!", responded_by="merchant")


# ---- votes -------------------------------------------------------------------------------


def test_a_first_vote_is_cast_the_same_again_changes_nothing_the_other_way_moves_it():
    state = given(SUBMITTED, APPROVED)
    [cast] = decide.vote(state, vote(ANN, True), ANN)
    assert cast == ev.VoteCast(customer_id=ANN, helpful=True)
    state = REVIEW.fold([cast], state)
    assert decide.vote(state, vote(ANN, True), ANN) == []
    [changed] = decide.vote(state, vote(ANN, False), ANN)
    assert changed == ev.VoteChanged(customer_id=ANN, helpful=False)
    state = REVIEW.fold([changed], state)
    assert (state.helpful, state.unhelpful) == (0, 1)


def test_only_approved_reviews_take_votes_and_never_from_their_author():
    with pytest.raises(Conflict) as pending:
        decide.vote(given(SUBMITTED), vote(ANN, True), ANN)
    assert pending.value.code == "review_not_approved"
    with pytest.raises(InvalidCommand) as own:
        decide.vote(given(SUBMITTED, APPROVED), vote(AUTHOR, True), AUTHOR)
    assert own.value.code == "own_review"


@settings(max_examples=60)
@for_all(st.lists(st.tuples(st.sampled_from([ANN, BOB]), st.booleans()), max_size=20))
def test_the_counts_are_each_voters_last_vote(votes):
    state = given(SUBMITTED, APPROVED)
    for voter, helpful in votes:
        state = REVIEW.fold(decide.vote(state, vote(voter, helpful), voter), state)
    last = dict(votes)
    assert state.helpful == sum(last.values())
    assert state.unhelpful == len(last) - sum(last.values())
