"""The first HTTP answer kept under an idempotency key (``EventStore.keep_response``): kept
once, the first one wins, only for the request that took the key, and invisible to the
command layer's replay (whose ``extra`` stays what the decision returned)."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext, Idempotency
from domain.location.commands import RegisterLocation
from eventstore.store import StoredResponse
from tests.factories import send


def _keyed_location(container) -> Idempotency:
    code = f"IA-{uuid4().hex[:8]}"
    key = Idempotency(principal="p-answers", key=code, request_hash="h1")
    ctx = CommandContext.new("t", idempotency=key)
    send(container, RegisterLocation(code=code, name="A", type="store", priority=1), ctx)
    return key


def test_the_first_answer_is_kept_and_a_later_one_gets_it_back(container):
    store = container.store
    key = _keyed_location(container)
    first = StoredResponse(201, "application/json", '{"a":"pending","s":"é\\u0000"}'.encode())
    later = StoredResponse(201, "application/json", b'{"a":"confirmed"}')
    assert store.stored_response(key.principal, key.key, key.request_hash) is None
    assert store.keep_response(key.principal, key.key, key.request_hash, first) == first
    assert store.keep_response(key.principal, key.key, key.request_hash, later) == first
    assert store.stored_response(key.principal, key.key, key.request_hash) == first
    # the command layer's replay still sees only what the decision returned
    seen = store.find_idempotent_result(key.principal, key.key, key.request_hash)
    assert seen is not None and "http_response" not in seen.result


def test_nothing_is_kept_for_another_request_or_a_key_no_command_took(container):
    store = container.store
    key = _keyed_location(container)
    answer = StoredResponse(200, "application/json", b"{}")
    assert store.keep_response(key.principal, key.key, "another-hash", answer) is None
    assert store.keep_response(key.principal, f"untaken-{uuid4()}", "h1", answer) is None
    assert store.stored_response(key.principal, key.key, key.request_hash) is None
