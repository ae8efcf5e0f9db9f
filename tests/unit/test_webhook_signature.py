"""A delivery's signature: ``t=<unix>,v1=<hex>`` over ``"<t>.<body>"``, one ``v1`` per valid
secret; verification fails when any byte of the body changes, for another secret, or outside
the tolerance; and the retry schedule doubles up to its ceiling."""

from __future__ import annotations

from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.webhook_secrets import secret_of
from commands.webhook_sender import DeliveryPolicy
from commands.webhook_signature import header, verify

T = 1_796_505_600


@settings(max_examples=50)
@given(
    body=st.binary(min_size=1, max_size=200),
    index=st.integers(min_value=0),
    flip=st.integers(1, 255),
)
def test_one_changed_byte_breaks_the_signature(body, index, flip):
    value = header(["whsec_a"], T, body)
    assert verify("whsec_a", value, body, now=T)
    i = index % len(body)
    changed = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    assert not verify("whsec_a", value, changed, now=T)


def test_two_secrets_sign_during_a_rotation_and_each_verifies():
    value = header(["whsec_new", "whsec_old"], T, b"{}")
    assert value.startswith(f"t={T},v1=") and value.count("v1=") == 2
    assert verify("whsec_new", value, b"{}", now=T) and verify("whsec_old", value, b"{}", now=T)
    assert not verify("whsec_other", value, b"{}", now=T)


def test_a_stale_timestamp_is_refused():
    value = header(["whsec_a"], T, b"{}")
    assert verify("whsec_a", value, b"{}", now=T + 300)
    assert not verify("whsec_a", value, b"{}", now=T + 301)


def test_secrets_differ_per_webhook_generation_and_key():
    webhook = uuid4()
    key = bytes(32)
    assert secret_of(key, webhook, 0) == secret_of(key, webhook, 0)
    assert (
        len(
            {
                secret_of(key, webhook, 0),
                secret_of(key, webhook, 1),
                secret_of(key, uuid4(), 0),
                secret_of(b"x" * 32, webhook, 0),
            }
        )
        == 4
    )
    assert secret_of(key, webhook, 0).startswith("whsec_")


def test_the_retry_delay_doubles_up_to_its_ceiling():
    policy = DeliveryPolicy(backoff_s=30, max_backoff_s=300)
    assert [policy.delay(a) for a in range(1, 7)] == [30, 60, 120, 240, 300, 300]
