"""Turning a Kafka message back into a ``RecordedEvent`` (through the mapper, so upcasting
applies). The schemas a consumer group's views live in are named in
``projections/view_schemas.py``."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from eventstore.mapper import EventMapper, UnknownEventType
from eventstore.recorded import RecordedEvent


class PoisonEvent(Exception):
    """A message no projection can use: the reason is stored with it in the dead letters."""


def decode(mapper: EventMapper, value: bytes) -> RecordedEvent:
    """Decode and validate one envelope; raise ``PoisonEvent`` with a reason if it is unusable.

    Personal leaves arrive encrypted; the envelope's ``personal_data_subject`` goes back into the
    stored body (``"p"``) so the mapper decrypts them with its key ring here, at read time: a
    forgotten customer's leaves decode as the erased marker, as in the store's own reads."""
    try:
        env = orjson.loads(value)
        body = {"v": env["schema_version"], "m": env["metadata"], "d": env["data"]}
        if env.get("personal_data_subject") is not None:
            body["p"] = env["personal_data_subject"]
        state = orjson.dumps(body)
        event_type = env["type"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise PoisonEvent(f"malformed_envelope: {exc}") from None
    if mapper.registry.get(event_type) is None:
        raise PoisonEvent(f"unknown_event_type: no event class is registered for {event_type!r}")
    try:
        recorded = mapper.to_recorded(
            env.get("position"), env["stream_id"], env["version"], event_type, state
        )
    except UnknownEventType as exc:
        raise PoisonEvent(f"unknown_schema_version: {exc}") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise PoisonEvent(f"malformed_envelope: {exc}") from None
    try:
        recorded.to_domain()
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise PoisonEvent(f"invalid_data: {errors}") from None
    return recorded
