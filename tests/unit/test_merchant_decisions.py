"""The Merchant aggregate's decisions, no database: given its events, when a command is
decided, then these events or this error (grouped by state), and the review table walked
with hypothesis: no sequence of commands reaches a status the table does not allow."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.errors import Conflict, DomainError, InvalidCommand, NotFound
from domain.merchant import decide
from domain.merchant import events as ev
from domain.merchant.commands import ChangeCommission, MoveMerchant, RegisterMerchant
from domain.merchant.state import MERCHANT

M = UUID("5b1f8c7e-2a4d-4e3b-8c1a-9d0e1f2a3b4c")
REGISTERED = ev.MerchantRegistered(
    merchant_id=M,
    name="Acme Goods",
    email="sales@acme.example",
    country="DE",
    commission_percent=Decimal("12.5"),
    registered_by="admin",
)
REVIEWING = ev.MerchantReviewStarted(previous="applied", changed_by="admin")
APPROVED = ev.MerchantApproved(previous="under_review", changed_by="admin")
SUSPENDED = ev.MerchantSuspended(previous="approved", reason="fraud check", changed_by="admin")
REJECTED = ev.MerchantRejected(previous="under_review", changed_by="admin")


def given(*events):
    return MERCHANT.fold(events)


def when_moved(state, transition: str, reason: str | None = None):
    return decide.move(
        state, MoveMerchant(merchant_id=M, transition=transition, reason=reason), by="admin"
    )


def registration(percent: str = "12.5", **fields) -> RegisterMerchant:
    body = {"name": "Acme Goods", "email": "sales@acme.example", "country": "DE"}
    return RegisterMerchant(**{**body, **fields, "commission_percent": percent})


class TestRegister:
    def test_a_new_merchant_has_applied_with_its_rate(self):
        events = decide.register(given(), registration(), merchant_id=M, by="admin")
        assert events == [REGISTERED]
        assert (given(*events).status, given(*events).commission_percent) == (
            "applied",
            Decimal("12.5"),
        )

    @pytest.mark.parametrize("percent", ["0", "100", "0.0001", "99.9999"])
    def test_the_rate_bounds_are_inclusive(self, percent):
        [event] = decide.register(given(), registration(percent), merchant_id=M, by="a")
        assert event.commission_percent == Decimal(percent)

    @pytest.mark.parametrize("percent", ["-0.01", "100.01", "250"])
    def test_a_rate_outside_0_to_100_is_refused(self, percent):
        with pytest.raises(InvalidCommand) as e:
            decide.register(given(), registration(percent), merchant_id=M, by="a")
        assert e.value.code == "commission_out_of_range"

    def test_a_bad_email_is_refused(self):
        with pytest.raises(InvalidCommand) as e:
            decide.register(given(), registration(email="not-an-email"), merchant_id=M, by="a")
        assert e.value.code == "invalid_email"

    @pytest.mark.parametrize("percent", ["1e2", "ten", "", "12.34567", "1000"])
    def test_a_rate_not_written_as_a_short_decimal_is_refused_where_the_command_is_built(
        self, percent
    ):
        with pytest.raises(ValidationError):
            registration(percent)

    def test_a_country_that_is_not_alpha_2_is_refused_where_the_command_is_built(self):
        with pytest.raises(ValidationError):
            registration(country="Germany")

    def test_an_existing_merchant_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            decide.register(given(REGISTERED), registration(), merchant_id=M, by="a")
        assert e.value.code == "merchant_exists"


class TestApplied:
    def test_review_starts(self):
        assert when_moved(given(REGISTERED), "review") == [REVIEWING]

    @pytest.mark.parametrize(
        ("transition", "code"),
        [
            ("approve", "merchant_not_under_review"),
            ("reject", "merchant_not_under_review"),
            ("suspend", "merchant_not_approved"),
            ("reinstate", "merchant_not_suspended"),
        ],
    )
    def test_every_other_move_is_a_conflict_naming_what_it_needs(self, transition, code):
        with pytest.raises(Conflict) as e:
            when_moved(given(REGISTERED), transition)
        assert e.value.code == code
        assert e.value.details["current"] == "applied"


class TestUnderReview:
    def test_approval_records_who_and_why(self):
        state = given(REGISTERED, REVIEWING)
        assert when_moved(state, "approve", "documents fine") == [
            ev.MerchantApproved(
                previous="under_review", reason="documents fine", changed_by="admin"
            )
        ]

    def test_rejection(self):
        assert when_moved(given(REGISTERED, REVIEWING), "reject") == [REJECTED]

    def test_a_second_review_writes_nothing(self):
        assert when_moved(given(REGISTERED, REVIEWING), "review") == []

    def test_suspending_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            when_moved(given(REGISTERED, REVIEWING), "suspend")
        assert e.value.code == "merchant_not_approved"


class TestApproved:
    def test_suspension(self):
        state = given(REGISTERED, REVIEWING, APPROVED)
        assert when_moved(state, "suspend", "fraud check") == [SUSPENDED]

    def test_approving_again_writes_nothing(self):
        assert when_moved(given(REGISTERED, REVIEWING, APPROVED), "approve") == []

    def test_rejecting_an_approved_merchant_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            when_moved(given(REGISTERED, REVIEWING, APPROVED), "reject")
        assert e.value.code == "merchant_not_under_review"


class TestSuspended:
    def test_reinstatement_approves_again(self):
        state = given(REGISTERED, REVIEWING, APPROVED, SUSPENDED)
        [event] = when_moved(state, "reinstate")
        assert isinstance(event, ev.MerchantReinstated)
        assert given(REGISTERED, REVIEWING, APPROVED, SUSPENDED, event).status == "approved"

    def test_suspending_again_writes_nothing(self):
        assert when_moved(given(REGISTERED, REVIEWING, APPROVED, SUSPENDED), "suspend") == []


class TestRejected:
    @pytest.mark.parametrize("transition", ["review", "approve", "suspend", "reinstate"])
    def test_a_rejected_merchant_moves_no_more(self, transition):
        with pytest.raises(Conflict):
            when_moved(given(REGISTERED, REVIEWING, REJECTED), transition)


class TestUnknown:
    def test_a_move_on_an_unknown_merchant_is_not_found(self):
        with pytest.raises(NotFound) as e:
            when_moved(given(), "review")
        assert e.value.code == "merchant_not_found"

    def test_a_rate_change_on_an_unknown_merchant_is_not_found(self):
        c = ChangeCommission(merchant_id=M, commission_percent="5", reason="r")
        with pytest.raises(NotFound):
            decide.change_commission(given(), c, by="admin")


class TestCommission:
    def change(self, state, percent: str):
        c = ChangeCommission(merchant_id=M, commission_percent=percent, reason="deal")
        return decide.change_commission(state, c, by="admin")

    def test_a_change_keeps_old_and_new(self):
        assert self.change(given(REGISTERED), "8") == [
            ev.CommissionChanged(
                old_percent=Decimal("12.5"),
                new_percent=Decimal(8),
                reason="deal",
                changed_by="admin",
            )
        ]

    def test_the_same_rate_writes_nothing(self):
        assert self.change(given(REGISTERED), "12.50") == []

    def test_a_suspended_merchants_rate_may_change(self):
        assert self.change(given(REGISTERED, REVIEWING, APPROVED, SUSPENDED), "3")

    def test_out_of_range_is_refused(self):
        with pytest.raises(InvalidCommand) as e:
            self.change(given(REGISTERED), "101")
        assert e.value.code == "commission_out_of_range"

    def test_a_rejected_merchants_rate_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            self.change(given(REGISTERED, REVIEWING, REJECTED), "3")
        assert e.value.code == "merchant_rejected"


ALLOWED = {
    ("applied", "under_review"),
    ("under_review", "approved"),
    ("under_review", "rejected"),
    ("approved", "suspended"),
    ("suspended", "approved"),
}


@settings(max_examples=60, deadline=None)
@hypothesis_given(
    st.lists(st.sampled_from(["review", "approve", "reject", "suspend", "reinstate"]), max_size=12)
)
def test_no_sequence_of_commands_leaves_the_review_table(transitions):
    events = [REGISTERED]
    for transition in transitions:
        before = given(*events).status
        try:
            new = when_moved(given(*events), transition)
        except DomainError as refused:
            assert isinstance(refused, Conflict)
            continue
        events.extend(new)
        after = given(*events).status
        assert after == before or (before, after) in ALLOWED
