-- The payment gateway's memory of its answers, by idempotency key: a restarted process asks
-- again under the same key and gets the first answer, so nothing is charged or refunded twice.
CREATE TABLE IF NOT EXISTS gateway_idempotency (
    key        text PRIMARY KEY,
    operation  text        NOT NULL,
    outcome    text        NOT NULL,
    reference  text        NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    amount     numeric,
    created_at timestamptz NOT NULL DEFAULT now()
);
