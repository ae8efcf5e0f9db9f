-- Idempotency keys: one row per (principal, key), written in the same transaction as the
-- events the request produced; replays read the result back. Kept at least 24 hours.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    stream_id    uuid        NOT NULL,
    version      bigint      NOT NULL,
    result       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Human order numbers come from a sequence, never from count + 1.
CREATE SEQUENCE IF NOT EXISTS order_number_seq START 1000;

-- Lookups by event type for the audit feed and projections.
CREATE INDEX IF NOT EXISTS stored_events_topic_notification_idx
    ON stored_events (topic, notification_id);
