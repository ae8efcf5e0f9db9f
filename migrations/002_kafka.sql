-- Kafka scale-out (docs/kafka.md). All of it lives beside the event store, so the relay's
-- position and each consumer group's offsets commit in the same database as the read models.

-- The relay's acknowledged position, one row per topic prefix. ``epoch`` grows when the relay
-- finds that the broker lost acknowledged messages; it then resends from ``origin`` (where it
-- first started, usually 0).
CREATE TABLE IF NOT EXISTS kafka_relay (
    relay       text        NOT NULL,
    position    bigint      NOT NULL DEFAULT 0,
    origin      bigint      NOT NULL DEFAULT 0,
    epoch       int         NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kafka_relay_pkey PRIMARY KEY (relay)
);

-- The id of each topic the relay wrote to in the current epoch: a topic that is missing or has
-- another id (deleted and recreated, a broker restarted on empty storage) lost messages.
CREATE TABLE IF NOT EXISTS kafka_relay_topics (
    relay       text NOT NULL,
    topic       text NOT NULL,
    topic_id    text NOT NULL,
    CONSTRAINT kafka_relay_topics_pkey PRIMARY KEY (relay, topic)
);

-- The highest offset the broker acknowledged per partition in the current epoch: a delivery
-- report with an offset at or below it means the log was replaced under a running relay.
CREATE TABLE IF NOT EXISTS kafka_relay_partitions (
    relay       text   NOT NULL,
    topic       text   NOT NULL,
    partition   int    NOT NULL,
    acked       bigint NOT NULL,
    CONSTRAINT kafka_relay_partitions_pkey PRIMARY KEY (relay, topic, partition)
);

-- Consumer offsets, stored in PostgreSQL in the same transaction as the read-model update
-- (Kafka's committed offsets are never used). ``high_water`` is the log end seen last, for lag.
CREATE TABLE IF NOT EXISTS kafka_consumer_offsets (
    group_name  text        NOT NULL,
    topic       text        NOT NULL,
    partition   int         NOT NULL,
    next_offset bigint      NOT NULL,
    epoch       int         NOT NULL,
    high_water  bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kafka_consumer_offsets_pkey PRIMARY KEY (group_name, topic, partition)
);

-- Per group and stream, the last version applied: a redelivered event is recognised and ignored.
CREATE TABLE IF NOT EXISTS kafka_consumer_streams (
    group_name  text   NOT NULL,
    stream_id   uuid   NOT NULL,
    version     bigint NOT NULL,
    CONSTRAINT kafka_consumer_streams_pkey PRIMARY KEY (group_name, stream_id)
);

-- Poison events parked by a consumer group, with the reason; an operator retries or skips them.
CREATE TABLE IF NOT EXISTS kafka_dead_letters (
    id          bigserial   NOT NULL,
    group_name  text        NOT NULL,
    projection  text,
    topic       text        NOT NULL,
    partition   int         NOT NULL,
    "offset"    bigint      NOT NULL,
    position    bigint,
    stream_id   uuid,
    version     bigint,
    type        text,
    reason      text        NOT NULL,
    envelope    bytea       NOT NULL,
    status      text        NOT NULL DEFAULT 'parked',
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT kafka_dead_letters_pkey PRIMARY KEY (id),
    CONSTRAINT kafka_dead_letters_status_check CHECK (status IN ('parked', 'retried', 'skipped'))
);
CREATE INDEX IF NOT EXISTS kafka_dead_letters_group_status_idx
    ON kafka_dead_letters (group_name, status, id);
