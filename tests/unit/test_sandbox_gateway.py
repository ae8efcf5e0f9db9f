"""The sandbox gateway answers by card token and never charges twice for one key."""

from decimal import Decimal

import pytest

from commands.payment_gateway import GatewayTimeout, GatewayTransientError, SandboxGateway


def test_visa_approves_and_a_repeated_key_is_charged_once():
    gw = SandboxGateway()
    a = gw.authorize("k1", "tok_visa", Decimal("10"), "USD", 1.0)
    b = gw.authorize("k1", "tok_visa", Decimal("10"), "USD", 1.0)
    assert a == b and a.outcome == "approved" and gw.charges == 1


def test_declined_declines():
    assert SandboxGateway().authorize("k", "tok_declined", Decimal("1"), "USD", 1).outcome == (
        "declined"
    )


def test_flaky_fails_twice_then_approves_under_the_same_key():
    gw = SandboxGateway()
    for _ in range(2):
        with pytest.raises(GatewayTransientError):
            gw.authorize("k", "tok_flaky", Decimal("1"), "USD", 1)
    assert gw.authorize("k", "tok_flaky", Decimal("1"), "USD", 1).outcome == "approved"


def test_slow_times_out():
    with pytest.raises(GatewayTimeout):
        SandboxGateway(slow_delay_s=0.01).authorize("k", "tok_slow", Decimal("1"), "USD", 0.01)
