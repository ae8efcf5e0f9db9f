-- Each event keeps the server's time of writing beside its business time. The business time
-- (``m.occurred_at`` in the stored state) is stamped by whoever decided the event, when it
-- decided; ``recorded_at`` is the database clock when the row was inserted (under the table
-- lock, so it follows position order up to clock steps). Events written before this migration
-- have none (NULL): their time of writing was never recorded, and inventing one would be a lie.
ALTER TABLE stored_events ADD COLUMN IF NOT EXISTS recorded_at timestamptz;
ALTER TABLE stored_events ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();
