"""The wake-up payload (``eventstore/wakeups.py``): the position committed and the mask of the
committed topics, read back as written; a follower is woken by a mask that shares a bit with
its own, and anything the listener cannot read as a mask wakes every follower."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from eventstore.wakeups import MASK_BITS, parse, payload, topic_bit, topic_mask

topics = st.text(min_size=1, max_size=40)


@given(st.integers(min_value=1, max_value=2**62), st.lists(topics, max_size=20))
def test_a_payload_reads_back_as_written(head, committed):
    mask = topic_mask(committed)
    assert parse(payload(head, mask)) == (head, mask)


@given(st.lists(topics, min_size=1, max_size=20), st.lists(topics, max_size=20))
def test_a_commit_of_a_followed_topic_always_shares_a_bit_with_the_follower(followed, others):
    # Given a follower of ``followed``; when a commit holds one of them among others
    committed = topic_mask([followed[0], *others])
    # Then their masks meet (collisions may wake a follower for nothing, never miss one)
    assert committed & topic_mask(followed)


def test_each_topic_has_one_bit_the_same_every_time():
    bit = topic_bit("order.OrderPlaced")
    assert bit == topic_bit("order.OrderPlaced")
    assert bit.bit_count() == 1 and bit < 1 << MASK_BITS


def test_without_topics_the_mask_means_every_commit():
    assert topic_mask(None) is None
    assert payload(42, None) == "42"
    assert parse("42") == (42, None)  # a bare position (an older writer): wake everyone


def test_an_unreadable_payload_wakes_everyone():
    assert parse("") == (None, None)
    assert parse("12:not-hex") == (12, None)
    assert parse("x:ff") == (None, 0xFF)
