-- The parking lot: events a follower of the log (a read model, a process manager, the Kafka
-- relay) could not handle after its retries, and the later events of the same stream, parked
-- behind the first so that no follower applies a stream out of order. Written and cleared by
-- eventstore/parking.py.
CREATE TABLE IF NOT EXISTS parked_events (
    id                 bigserial   PRIMARY KEY,
    follower           text        NOT NULL,
    position           bigint      NOT NULL,
    stream_id          uuid        NOT NULL,
    stream_version     bigint      NOT NULL,
    event_type         text        NOT NULL,
    error              text        NOT NULL,
    attempts           integer     NOT NULL,
    -- id of the first parked event of the same stream and follower; NULL for that first one
    behind             bigint,
    -- set by an operator's retry of a follower that runs in another process (the relay)
    retry_requested_at timestamptz,
    parked_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (follower, position)
);
CREATE INDEX IF NOT EXISTS parked_events_stream ON parked_events (follower, stream_id, position);
