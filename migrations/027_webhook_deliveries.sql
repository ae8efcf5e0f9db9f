-- Webhook deliveries: one row per (webhook, event of a type it subscribes to), written by the
-- webhook dispatcher (commands/webhook_dispatcher.py) in the transaction that moves its
-- position in process_tracking, so an event is queued once for each webhook across crashes
-- and restarts; then claimed, attempted and settled by the senders
-- (commands/webhook_deliveries.py). A table, not events: attempts are operational state,
-- many per event, which the log would otherwise echo back to its own followers. The row
-- holds a reference to the event, never its data: the body is built from the log when sent.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      uuid        NOT NULL,
    position        bigint      NOT NULL,
    stream_id       uuid        NOT NULL,
    stream_version  bigint      NOT NULL,
    event_type      text        NOT NULL,
    -- pending: to be attempted (again) at next_attempt_at; delivered: a 2xx came back;
    -- dead: max attempts failed (an operator's retry makes it pending again)
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- a sender holds the row until then while it sends (a crashed sender's lease runs out)
    leased_until    timestamptz,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, position)
);
-- The heads of each (webhook, stream) that a sender claims: its earliest pending delivery.
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending
    ON webhook_deliveries (webhook_id, stream_id, position) WHERE status = 'pending';
