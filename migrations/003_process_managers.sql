-- Where each process manager (saga) has got to in the global event order.
CREATE TABLE IF NOT EXISTS process_tracking (
    name       text PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
