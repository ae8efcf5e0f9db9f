-- Tamper evidence: one row per chained event, hash = sha256(previous hash || canonical row).
-- Written by the tracked chainer (audit/chainer.py) in position order under an advisory lock.
CREATE TABLE IF NOT EXISTS event_chain (
    position bigint PRIMARY KEY,
    hash     bytea  NOT NULL,
    mac      bytea  -- HMAC-SHA256(key kept outside the database, position || hash)
);

-- Right to be forgotten: one AES-256-GCM key per customer. Forgetting sets key to NULL (the
-- row stays as a tombstone so that later events of that customer are written erased).
CREATE TABLE IF NOT EXISTS customer_keys (
    customer_id  uuid        PRIMARY KEY,
    key          bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    forgotten_at timestamptz
);
