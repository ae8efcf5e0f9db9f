-- For databases that applied 005 before the chain entries carried a MAC (idempotent).
ALTER TABLE event_chain ADD COLUMN IF NOT EXISTS mac bytea;
