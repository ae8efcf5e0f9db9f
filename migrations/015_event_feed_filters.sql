-- Filters of the event feed (GET /events?correlation_id=&actor=&from=&to=) by the metadata
-- inside each stored event (``state`` is the UTF-8 JSON ``{"v", "m", "d"}`` our mapper writes;
-- ``m`` holds occurred_at, actor, correlation_id, causation_id and is never encrypted).
-- The functions are declared IMMUTABLE so that they can be indexed: a row's state never
-- changes, and every stored ``occurred_at`` carries its offset, so its cast does not depend
-- on the session's time zone. Queries must call them exactly as written here to use the
-- indexes (eventstore/feed_query.py).
CREATE OR REPLACE FUNCTION event_meta(state bytea, field text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_from(state, 'UTF8')::jsonb -> 'm' ->> field $$;

CREATE OR REPLACE FUNCTION event_occurred_at(state bytea) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (convert_from(state, 'UTF8')::jsonb -> 'm' ->> 'occurred_at')::timestamptz $$;

-- Each filter walks its index in position order from the feed's ``after``.
CREATE INDEX IF NOT EXISTS stored_events_correlation_idx
    ON stored_events (event_meta(state, 'correlation_id'), notification_id);
CREATE INDEX IF NOT EXISTS stored_events_actor_idx
    ON stored_events (event_meta(state, 'actor'), notification_id);
CREATE INDEX IF NOT EXISTS stored_events_occurred_at_idx
    ON stored_events (event_occurred_at(state));

-- The order timeline view now joins the order's payment, shipment and return streams (one row
-- per event, keyed by position; projections/order_timeline.py). A view built before has the
-- old table: drop it, and the start that runs this migration creates it afresh and replays
-- the log into it (as a rebuild would).
DROP SCHEMA IF EXISTS rm_order_timeline CASCADE;
DROP SCHEMA IF EXISTS rm_order_timeline__next CASCADE;
DROP SCHEMA IF EXISTS rm_order_timeline__old CASCADE;
