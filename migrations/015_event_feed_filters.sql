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
