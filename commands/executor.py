"""The load-decide-append loop shared by every handler.

- Without an expected version, a concurrent append is re-decided on fresh state (never lost).
- With one (If-Match), a stale version is refused with ``VersionMismatch`` (412).
- With an idempotency key, a repeat returns the first result and writes nothing; the key's
  record is written in the same transaction as the events (or alone, for a request that
  changed nothing: the key is still taken, so another request under it is refused). The key
  is looked up after the stream is loaded, so a first holder whose events the load already
  sees is always replayed, never decided against.
- An aggregate type with ``snapshot_every`` is loaded from its latest snapshot plus the events
  after it, and an append that makes one due writes it after the commit (best effort).
- The load knows when the stream's last event occurred (``Loaded.last_at``); the append is
  stamped no earlier (``StreamAppend.not_before``), so time never goes back within a stream.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import UUID

from commands.context import CommandContext, Outcome
from commands.stream_states import Loaded, load_states
from domain.aggregate import AggregateType
from domain.errors import ConcurrencyConflict, VersionMismatch
from domain.events import DomainEvent
from eventstore import snapshots
from eventstore.recorder import IdempotencyRecord
from eventstore.store import EventStore, IdempotencyKeyTaken, StreamAppend

S = TypeVar("S")
#: A conflict is re-decided until this much time has passed, then reported (409).
RETRY_BUDGET_S = 30.0


def load(store: EventStore, aggregate: AggregateType[S], stream_id: UUID) -> Loaded[S]:
    """The stream's current state, for a decision (``commands/stream_states.py``: from the
    stream's latest readable snapshot when its aggregate type keeps them)."""
    return load_states(store, aggregate, [stream_id])[stream_id]


def replay_if_seen(store: EventStore, ctx: CommandContext) -> Outcome | None:
    if ctx.idempotency is None:
        return None
    seen = store.find_idempotent_result(
        ctx.idempotency.principal, ctx.idempotency.key, ctx.idempotency.request_hash
    )
    if seen is None:
        return None
    return Outcome(
        stream_id=seen.stream_id,
        version=seen.version,
        position=seen.position,
        replayed=True,
        extra=seen.result,
    )


def idempotency_record(
    ctx: CommandContext, stream_id: UUID, version: int, extra: dict
) -> IdempotencyRecord:
    """What the context's key keeps: the stream and version the request left, its answer."""
    assert ctx.idempotency is not None
    return IdempotencyRecord(
        principal=ctx.idempotency.principal,
        key=ctx.idempotency.key,
        request_hash=ctx.idempotency.request_hash,
        stream_id=stream_id,
        version=version,
        result=extra,
    )


Decision = Sequence[DomainEvent] | tuple[Sequence[DomainEvent], dict]


def execute(
    store: EventStore,
    aggregate: AggregateType[S],
    stream_id: UUID,
    decide: Callable[[S, int], Decision],
    ctx: CommandContext,
    *,
    also: Callable[[S, Sequence[DomainEvent]], Sequence[StreamAppend]] | None = None,
) -> Outcome:
    """Run one command against one stream.

    ``decide(state, version)`` returns the new events, or ``(events, extra)`` where ``extra`` is
    returned to the caller (and replayed under an idempotency key). No events means the command
    is a no-op: nothing is written and the current position is returned. ``also`` may add
    appends to other streams (a uniqueness claim, say) in the same transaction.
    """
    deadline = time.monotonic() + RETRY_BUDGET_S
    attempt = -1
    while time.monotonic() < deadline:
        attempt += 1
        loaded = load(store, aggregate, stream_id)
        # After the load: the key's record commits with its events, so a first holder this
        # load sees is found here (its events are not decided on again).
        replay = replay_if_seen(store, ctx)
        if replay is not None:
            return replay
        if ctx.expected_version is not None and ctx.expected_version != loaded.version:
            raise VersionMismatch(ctx.expected_version, loaded.version)
        decision = decide(loaded.state, loaded.version)
        events, extra = decision if isinstance(decision, tuple) else (decision, {})
        events = list(events)
        if not events:
            position = store.position_of(stream_id, loaded.version) if loaded.version else 0
            if ctx.idempotency is not None:
                kept = store.remember(idempotency_record(ctx, stream_id, loaded.version, extra))
                if not kept:
                    replay = replay_if_seen(store, ctx)
                    if replay is not None:
                        return replay
            return Outcome(stream_id, loaded.version, position or 0, extra=extra)
        # Other streams first, so the aggregate's own last event has the highest position: the
        # position a first answer and an idempotent replay both report.
        appends = list(also(loaded.state, events)) if also is not None else []
        appends.append(StreamAppend(stream_id, loaded.version, events, not_before=loaded.last_at))
        new_version = loaded.version + len(events)
        record = None
        if ctx.idempotency is not None:
            record = idempotency_record(ctx, stream_id, new_version, extra)
        try:
            position = store.append(appends, ctx.meta(), record)
        except IdempotencyKeyTaken:
            replay = replay_if_seen(store, ctx)
            if replay is not None:
                return replay
            continue  # the key's first holder was rolled back: decide again
        except ConcurrencyConflict:
            if ctx.expected_version is not None:
                actual = store.stream_version(stream_id)
                if actual != ctx.expected_version:
                    raise VersionMismatch(ctx.expected_version, actual) from None
                # Our stream did not move: another stream of the append (a claim) did, so
                # decide again and let ``also`` say what it means.
            replay = replay_if_seen(store, ctx)
            if replay is not None:
                return replay
            # Jittered backoff spreads racing writers out, so none loses every round.
            time.sleep(random.uniform(0, min(0.1, 0.002 * 2 ** min(attempt, 6))))
            continue
        if snapshots.due(aggregate, loaded.version, new_version, loaded.events_read, loaded.state):
            state = aggregate.fold(events, loaded.state)
            snapshots.save(store, aggregate, {stream_id: (new_version, state)})
        return Outcome(stream_id, new_version, position, extra=extra)
    raise ConcurrencyConflict("Too many concurrent changes to this stream; try again.")
