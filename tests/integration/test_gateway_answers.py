"""The sandbox gateway's memory in PostgreSQL (``commands/payment_gateway.py``,
``PostgresAnswers``): the first answer kept under a key is the answer, for a repeat in the same
process, after a restart (a new memory over the same table) and for concurrent keepers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import uuid4

from commands.payment_gateway import (
    AuthorizationRequest,
    GatewayAnswer,
    PostgresAnswers,
    SandboxGateway,
)


def test_the_first_answer_kept_under_a_key_is_the_answer(container):
    memory, key = PostgresAnswers(container.pool), f"test-{uuid4()}"
    first = GatewayAnswer("approved", "ref-1")
    # Given no answer under the key
    assert memory.get(key) is None
    # When one is kept, then another under the same key
    assert memory.keep(key, "authorize", first, Decimal("12.50")) == first
    later = GatewayAnswer("declined", "ref-2", "card_declined")
    # Then the first stays the answer, here and in a memory made anew (a restart)
    assert memory.keep(key, "authorize", later, Decimal("12.50")) == first
    assert PostgresAnswers(container.pool).get(key) == first


def test_concurrent_keepers_of_one_key_all_get_the_one_kept(container):
    memory, key = PostgresAnswers(container.pool), f"test-{uuid4()}"
    answers = [GatewayAnswer("approved", f"ref-{i}") for i in range(8)]
    # When eight keep an answer under one key at once
    with ThreadPoolExecutor(8) as pool:
        kept = list(pool.map(lambda a: memory.keep(key, "authorize", a, None), answers))
    # Then each is told the same answer, the one stored
    assert len(set(kept)) == 1
    assert memory.get(key) == kept[0] and kept[0] in answers


def test_keep_first_tells_whether_the_answer_is_kept_now(container):
    memory, key = PostgresAnswers(container.pool), f"test-{uuid4()}"
    first, later = GatewayAnswer("approved", "ref-1"), GatewayAnswer("approved", "ref-2")
    assert memory.keep_first(key, "authorize", first, None) == (first, True)
    assert memory.keep_first(key, "authorize", later, None) == (first, False)
    assert memory.keep_first(key, "authorize", first, None) == (first, False)


def test_of_concurrent_first_keepers_exactly_one_is_told_it_kept(container):
    memory, key = PostgresAnswers(container.pool), f"test-{uuid4()}"
    answers = [GatewayAnswer("approved", f"ref-{i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        kept = list(pool.map(lambda a: memory.keep_first(key, "authorize", a, None), answers))
    assert len({answer for answer, _ in kept}) == 1
    assert sum(now for _, now in kept) == 1


def test_the_sandbox_over_postgres_charges_a_key_once_across_a_restart(container):
    """Given an approved authorization, when the same key is asked again, by the same
    sandbox and by one started afresh over the same memory, then neither charges again; a
    declined card never counts as a charge."""
    key = f"test-{uuid4()}"
    sandbox = SandboxGateway(memory=PostgresAnswers(container.pool))
    first = sandbox.authorize(key, "tok_visa", Decimal("9.99"), "USD", 1.0)
    assert sandbox.authorize(key, "tok_visa", Decimal("9.99"), "USD", 1.0) == first
    restarted = SandboxGateway(memory=PostgresAnswers(container.pool))
    assert restarted.authorize(key, "tok_visa", Decimal("9.99"), "USD", 1.0) == first
    assert (sandbox.charges, restarted.charges) == (1, 0)
    declined = sandbox.authorize(f"{key}-d", "tok_declined", Decimal("1"), "USD", 1.0)
    assert declined.outcome == "declined" and sandbox.charges == 1


def test_keep_many_keeps_the_new_keys_and_tells_the_earlier_answers(container):
    memory, tag = PostgresAnswers(container.pool), uuid4().hex
    before = GatewayAnswer("declined", "ref-0", "card_declined")
    memory.keep(f"{tag}-0", "authorize", before, None)
    asked = [(f"{tag}-{i}", GatewayAnswer("approved", f"ref-{i}"), Decimal("5")) for i in range(3)]
    kept = memory.keep_many("authorize", asked)
    assert kept == {
        f"{tag}-0": (before, False),
        f"{tag}-1": (asked[1][1], True),
        f"{tag}-2": (asked[2][1], True),
    }
    assert memory.keep_many("authorize", asked[1:]) == {
        f"{tag}-1": (asked[1][1], False),
        f"{tag}-2": (asked[2][1], False),
    }


def test_concurrent_batches_over_the_same_keys_keep_each_key_once(container):
    """Eight batches of the same twenty keys at once (in different orders): every key is kept
    by exactly one of them, and every batch is told the answer kept."""
    memory, tag = PostgresAnswers(container.pool), uuid4().hex
    keys = [f"{tag}-{i:02}" for i in range(20)]

    def batch(n: int) -> dict:
        mine = [(k, GatewayAnswer("approved", f"ref-{n}"), None) for k in keys[n:] + keys[:n]]
        return memory.keep_many("authorize", mine)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(batch, range(8)))
    for key in keys:
        told = [r[key] for r in results]
        assert sum(now for _, now in told) == 1
        assert len({answer for answer, _ in told}) == 1
        assert memory.get(key) == told[0][0]


def test_the_sandbox_answers_at_once_all_but_the_cards_answering_by_attempt(container):
    """Given visa, declined, flaky and slow cards in one batch, the sandbox answers the first
    two at once and leaves the others to be asked one by one; asked again, at once or alone,
    it gives the same answers and charges nothing more."""
    sandbox, tag = SandboxGateway(memory=PostgresAnswers(container.pool)), uuid4().hex
    asked = [
        AuthorizationRequest(f"{tag}-{token}", token, Decimal("3"), "USD")
        for token in ("tok_visa", "tok_declined", "tok_flaky", "tok_slow")
    ]
    answers = sandbox.authorize_at_once(asked)
    assert set(answers) == {f"{tag}-tok_visa", f"{tag}-tok_declined"}
    assert answers[f"{tag}-tok_visa"].outcome == "approved"
    assert answers[f"{tag}-tok_declined"].reason == "card_declined"
    assert sandbox.charges == 1
    assert sandbox.authorize_at_once(asked) == answers
    alone = sandbox.authorize(f"{tag}-tok_visa", "tok_visa", Decimal("3"), "USD", 1.0)
    assert alone == answers[f"{tag}-tok_visa"] and sandbox.charges == 1
