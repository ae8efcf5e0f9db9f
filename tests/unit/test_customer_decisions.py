"""The Customer aggregate's decisions, no database: given its events, when a command is
decided, then these events or this error (with its code)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from domain.customer import commands as cmd
from domain.customer import decide
from domain.customer import events as ev
from domain.customer.state import CUSTOMER, CUSTOMER_STANDING, EMAIL_CLAIM
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.order.values import Address

ADA = UUID("7d0f3f5e-0c1a-4a8e-9a43-1b2b3c4d5e6f")
CLAIM = UUID("0b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e60")
HOME = UUID("1b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e61")
WORK = UUID("2b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e62")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
BY = "user:staff"
REGISTERED = ev.CustomerRegistered(
    customer_id=ADA,
    email="Ada@Example.com",
    name="Ada Lovelace",
    phone="+15551234567",
    segment="standard",
    email_claim=CLAIM,
    registered_at=NOW,
    registered_by=BY,
)
ADDRESS = Address(name="Ada", line1="1 Main St", city="London", postal_code="N1", country="GB")
BLOCKED = ev.CustomerBlocked(reason="chargebacks", blocked_at=NOW, blocked_by=BY)
FORGOTTEN = ev.CustomerForgotten(forgotten_at=NOW, forgotten_by=BY, reason="customer_request")


def given(*events):
    return CUSTOMER.fold(events)


def register(**fields) -> list:
    body = {"email": "Ada@Example.com", "name": "Ada Lovelace", "phone": "+15551234567"} | fields
    return decide.register(
        given(), cmd.RegisterCustomer(**body), NOW, customer_id=ADA, email_claim=CLAIM, by=BY
    )


def refused(kind, code, decision, *args, **kwargs):
    with pytest.raises(kind) as e:
        decision(*args, **kwargs)
    assert e.value.code == code, e.value.message
    return e.value


class TestRegister:
    def test_a_customer_registers_with_the_default_segment(self):
        assert register() == [REGISTERED]

    def test_a_segment_of_the_list_is_taken(self):
        assert register(segment="vip")[0].segment == "vip"

    def test_the_email_is_trimmed_and_kept_in_its_case(self):
        assert register(email="  Ada@Example.com ")[0].email == "Ada@Example.com"

    @pytest.mark.parametrize(
        "email",
        ["", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a da@example.com",
         "ada@example..com", "ada@-example.com", "x" * 65 + "@example.com",
         "a@" + "b" * 250 + ".com", "ada@example.c0m"],
    )  # fmt: skip
    def test_a_malformed_email_is_refused(self, email):
        refused(InvalidCommand, "invalid_email", register, email=email)

    @pytest.mark.parametrize(
        "phone", ["5551234567", "+0551234567", "+1 555 123 4567", "+1555", "+1234567890123456", ""]
    )
    def test_a_phone_not_in_e164_is_refused(self, phone):
        refused(InvalidCommand, "invalid_phone", register, phone=phone)

    def test_no_phone_is_fine(self):
        assert register(phone=None)[0].phone is None

    def test_an_over_long_name_is_refused(self):
        error = refused(InvalidCommand, "name_too_long", register, name="A" * 201)
        assert error.details["max_length"] == 200

    @pytest.mark.parametrize("name", ["", "   ", "Ada <script>", "Ada$", "Ada\u200bL", "Ada@home"])
    def test_an_empty_name_or_odd_characters_are_refused(self, name):
        refused(InvalidCommand, "invalid_name", register, name=name)

    @pytest.mark.parametrize("name", ["Zoë O'Brien-Smith", "José María, Jr.", "李小龍", "Anna II"])
    def test_names_of_many_languages_are_taken(self, name):
        assert register(name=name)[0].name == name

    def test_an_unknown_segment_is_refused(self):
        error = refused(InvalidCommand, "unknown_segment", register, segment="platinum")
        assert "vip" in error.details["allowed"]

    def test_a_registered_id_is_not_registered_again(self):
        c = cmd.RegisterCustomer(email="b@example.com", name="B")
        refused(Conflict, "customer_exists", decide.register, given(REGISTERED), c, NOW,
                customer_id=ADA, email_claim=CLAIM, by=BY)  # fmt: skip


class TestUpdateProfile:
    def test_each_changed_field_records_old_and_new(self):
        c = cmd.UpdateProfile(customer_id=ADA, name="Ada King", phone="+442071234567", reason="wed")
        assert decide.update_profile(given(REGISTERED), c, by=BY) == [
            ev.CustomerProfileUpdated(
                name=ev.FieldChange(old="Ada Lovelace", new="Ada King"),
                phone=ev.FieldChange(old="+15551234567", new="+442071234567"),
                reason="wed",
                updated_by=BY,
            )
        ]

    def test_only_what_changed_is_recorded(self):
        c = cmd.UpdateProfile(customer_id=ADA, name="Ada Lovelace", phone="+442071234567")
        (event,) = decide.update_profile(given(REGISTERED), c, by=BY)
        assert event.name is None and event.phone.new == "+442071234567"

    def test_null_phone_removes_it(self):
        c = cmd.UpdateProfile(customer_id=ADA, phone=None)
        (event,) = decide.update_profile(given(REGISTERED), c, by=BY)
        assert event.phone == ev.FieldChange(old="+15551234567", new=None)
        assert CUSTOMER.fold([REGISTERED, event]).phone is None

    def test_nothing_changed_writes_nothing(self):
        c = cmd.UpdateProfile(customer_id=ADA, name="Ada Lovelace")
        assert decide.update_profile(given(REGISTERED), c, by=BY) == []
        assert (
            decide.update_profile(given(REGISTERED), cmd.UpdateProfile(customer_id=ADA), by=BY)
            == []
        )

    def test_bad_values_are_refused(self):
        state = given(REGISTERED)
        bad = (
            ({"phone": "555"}, "invalid_phone"),
            ({"name": "A" * 300}, "name_too_long"),
            ({"name": None}, "invalid_name"),
            ({"name": "<b>"}, "invalid_name"),
        )
        for fields, code in bad:
            c = cmd.UpdateProfile(customer_id=ADA, **fields)
            refused(InvalidCommand, code, decide.update_profile, state, c, by=BY)

    def test_an_unknown_customer_is_not_found(self):
        c = cmd.UpdateProfile(customer_id=ADA, name="X")
        refused(NotFound, "customer_not_found", decide.update_profile, given(), c, by=BY)


class TestAddresses:
    def add(self, state, aid=HOME, **flags):
        c = cmd.AddAddress(customer_id=ADA, address=ADDRESS, **flags)
        return decide.add_address(state, c, address_id=aid)

    def test_the_first_address_becomes_both_defaults(self):
        assert self.add(given(REGISTERED)) == [
            ev.CustomerAddressAdded(
                address_id=HOME, address=ADDRESS, default_shipping=True, default_billing=True
            )
        ]

    def test_a_second_address_is_default_only_when_asked(self):
        first = self.add(given(REGISTERED))[0]
        (second,) = self.add(given(REGISTERED, first), WORK, default_billing=True)
        assert (second.default_shipping, second.default_billing) == (False, True)
        state = given(REGISTERED, first, second)
        assert (state.default_shipping, state.default_billing) == (HOME, WORK)

    def test_removing_the_default_clears_it(self):
        first = self.add(given(REGISTERED))[0]
        state = given(REGISTERED, first)
        c = cmd.RemoveAddress(customer_id=ADA, address_id=HOME)
        assert decide.remove_address(state, c) == [ev.CustomerAddressRemoved(address_id=HOME)]
        after = given(REGISTERED, first, ev.CustomerAddressRemoved(address_id=HOME))
        assert after.addresses == () and after.default_shipping is None

    def test_removing_an_unknown_address_is_not_found(self):
        c = cmd.RemoveAddress(customer_id=ADA, address_id=WORK)
        refused(NotFound, "address_not_found", decide.remove_address, given(REGISTERED), c)

    def test_an_address_name_with_odd_characters_is_refused(self):
        odd = ADDRESS.model_copy(update={"name": "Ada {x}"})
        c = cmd.AddAddress(customer_id=ADA, address=odd)
        refused(InvalidCommand, "invalid_name", decide.add_address, given(REGISTERED), c,
                address_id=HOME)  # fmt: skip

    def test_at_most_twenty_addresses(self):
        events = [REGISTERED] + [
            ev.CustomerAddressAdded(address_id=UUID(int=i), address=ADDRESS,
                                    default_shipping=False, default_billing=False)
            for i in range(20)
        ]  # fmt: skip
        refused(InvalidCommand, "too_many_addresses", self.add, given(*events))


class TestSegment:
    def test_a_segment_is_assigned_with_the_old_one(self):
        c = cmd.AssignSegment(customer_id=ADA, segment="vip")
        assert decide.assign_segment(given(REGISTERED), c, by=BY) == [
            ev.CustomerSegmentAssigned(old="standard", new="vip", assigned_by=BY)
        ]

    def test_the_same_segment_writes_nothing(self):
        c = cmd.AssignSegment(customer_id=ADA, segment="standard")
        assert decide.assign_segment(given(REGISTERED), c, by=BY) == []

    def test_an_unknown_segment_is_refused(self):
        c = cmd.AssignSegment(customer_id=ADA, segment="gold")
        refused(InvalidCommand, "unknown_segment", decide.assign_segment, given(REGISTERED), c,
                by=BY)  # fmt: skip


class TestConsent:
    def test_granting_records_time_and_source(self):
        c = cmd.GrantConsent(customer_id=ADA, channel="sms")
        assert decide.grant_consent(given(REGISTERED), c, NOW, by="customer:ada") == [
            ev.CustomerConsentGranted(channel="sms", granted_at=NOW, source="customer:ada")
        ]

    def test_granting_twice_writes_nothing_and_withdrawing_then_records(self):
        granted = ev.CustomerConsentGranted(channel="email", granted_at=NOW, source=BY)
        state = given(REGISTERED, granted)
        assert decide.grant_consent(state, cmd.GrantConsent(customer_id=ADA, channel="email"),
                                    NOW, by=BY) == []  # fmt: skip
        w = cmd.WithdrawConsent(customer_id=ADA, channel="email")
        assert decide.withdraw_consent(state, w, NOW, by=BY) == [
            ev.CustomerConsentWithdrawn(channel="email", withdrawn_at=NOW, source=BY)
        ]

    def test_withdrawing_what_was_never_granted_writes_nothing(self):
        w = cmd.WithdrawConsent(customer_id=ADA, channel="sms")
        assert decide.withdraw_consent(given(REGISTERED), w, NOW, by=BY) == []


class TestBlocking:
    def test_an_active_customer_is_blocked_and_unblocked(self):
        b = cmd.BlockCustomer(customer_id=ADA, reason="chargebacks")
        assert decide.block(given(REGISTERED), b, NOW, by=BY) == [BLOCKED]
        u = cmd.UnblockCustomer(customer_id=ADA)
        assert decide.unblock(given(REGISTERED, BLOCKED), u, NOW, by=BY) == [
            ev.CustomerUnblocked(unblocked_at=NOW, unblocked_by=BY)
        ]
        unblocked = ev.CustomerUnblocked(unblocked_at=NOW, unblocked_by=BY)
        assert given(REGISTERED, BLOCKED, unblocked).status == "active"

    def test_blocking_a_blocked_or_unblocking_an_active_one_writes_nothing(self):
        b = cmd.BlockCustomer(customer_id=ADA, reason="again")
        assert decide.block(given(REGISTERED, BLOCKED), b, NOW, by=BY) == []
        u = cmd.UnblockCustomer(customer_id=ADA)
        assert decide.unblock(given(REGISTERED), u, NOW, by=BY) == []

    def test_an_unknown_customer_cannot_be_blocked(self):
        b = cmd.BlockCustomer(customer_id=ADA, reason="x")
        refused(NotFound, "customer_not_found", decide.block, given(), b, NOW, by=BY)


class TestForget:
    def test_an_active_or_blocked_customer_or_a_guest_is_forgotten(self):
        f = cmd.ForgetCustomer(customer_id=ADA)
        for state in (given(REGISTERED), given(REGISTERED, BLOCKED), given()):
            assert decide.forget(state, f, NOW, by=BY) == [FORGOTTEN]

    def test_forgetting_twice_writes_nothing(self):
        assert decide.forget(given(REGISTERED, FORGOTTEN), cmd.ForgetCustomer(customer_id=ADA),
                             NOW, by=BY) == []  # fmt: skip

    @pytest.mark.parametrize(
        "decision",
        [
            lambda s: decide.update_profile(s, cmd.UpdateProfile(customer_id=ADA, name="X"), by=BY),
            lambda s: decide.add_address(s, cmd.AddAddress(customer_id=ADA, address=ADDRESS),
                                         address_id=HOME),
            lambda s: decide.assign_segment(s, cmd.AssignSegment(customer_id=ADA, segment="vip"),
                                            by=BY),
            lambda s: decide.grant_consent(s, cmd.GrantConsent(customer_id=ADA, channel="sms"),
                                           NOW, by=BY),
            lambda s: decide.block(s, cmd.BlockCustomer(customer_id=ADA, reason="x"), NOW, by=BY),
            lambda s: decide.unblock(s, cmd.UnblockCustomer(customer_id=ADA), NOW, by=BY),
        ],
    )  # fmt: skip
    def test_forgotten_is_terminal(self, decision):
        refused(Conflict, "customer_forgotten", decision, given(REGISTERED, BLOCKED, FORGOTTEN))


class TestStanding:
    def test_the_standing_holds_status_and_segment_and_no_personal_data(self):
        segment = ev.CustomerSegmentAssigned(old="standard", new="vip", assigned_by=BY)
        standing = CUSTOMER_STANDING.fold([REGISTERED, segment, BLOCKED])
        assert (standing.registered, standing.status, standing.segment) == (True, "blocked", "vip")
        assert "Ada" not in repr(standing)
        assert CUSTOMER_STANDING.fold([REGISTERED, BLOCKED, FORGOTTEN]).status == "forgotten"

    def test_an_email_claim_is_held_then_released(self):
        held = EMAIL_CLAIM.fold([ev.EmailClaimed(customer_id=ADA)])
        assert held.holder == ADA
        released = ev.EmailReleased(customer_id=ADA)
        assert EMAIL_CLAIM.fold([ev.EmailClaimed(customer_id=ADA), released]).holder is None
