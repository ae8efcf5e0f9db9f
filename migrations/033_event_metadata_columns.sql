-- The metadata the event feed filters on (occurred_at, actor, correlation_id), written beside
-- each event's state by the appender, so that indexing an event no longer parses its JSON.
-- The indexes of 015 computed three expressions over the whole state (each a full JSON
-- parse: about an eighth of the server's CPU under a steady order load), inside the table
-- lock that serialises appends.
--
-- The columns are a copy of the state's ``m`` object (eventstore/mapper.py writes both from
-- one EventMeta); the state stays the record (the audit chain hashes it, not the columns).
-- Events appended before this migration, or by a writer that does not fill them, have NULLs:
-- each index takes the column, else parses the state as before (COALESCE stops at the first
-- value that is not NULL, so an event with its columns is never parsed). Queries must use
-- these expressions exactly as written here to use the indexes (eventstore/feed_query.py).
ALTER TABLE stored_events
    ADD COLUMN IF NOT EXISTS occurred_at timestamptz,
    ADD COLUMN IF NOT EXISTS actor text,
    ADD COLUMN IF NOT EXISTS correlation_id text;

CREATE INDEX IF NOT EXISTS stored_events_meta_correlation_idx
    ON stored_events ((coalesce(correlation_id, event_meta(state, 'correlation_id'))),
                      notification_id);
CREATE INDEX IF NOT EXISTS stored_events_meta_actor_idx
    ON stored_events ((coalesce(actor, event_meta(state, 'actor'))), notification_id);
CREATE INDEX IF NOT EXISTS stored_events_meta_occurred_at_idx
    ON stored_events ((coalesce(occurred_at, event_occurred_at(state))));
DROP INDEX IF EXISTS stored_events_correlation_idx;
DROP INDEX IF EXISTS stored_events_actor_idx;
DROP INDEX IF EXISTS stored_events_occurred_at_idx;

-- ecom_append_quiet (009) with the three columns. The older signature stays for code from
-- before this migration, as a call of this one with no columns (NULLs: indexed by parsing),
-- so the append's checks live in one body.
CREATE OR REPLACE FUNCTION ecom_append_quiet(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    occurred timestamptz[], actors text[], correlations text[],
    streams uuid[], expected bigint[],
    key_principals text[], key_names text[], key_hashes text[], key_streams uuid[],
    key_versions bigint[], key_results jsonb[],
    lock_timeout text
) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    claimed bigint;
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout, true);
    -- One backward probe of the primary key per stream (as in 009: not EXISTS, whose cached
    -- plan may hash the whole table).
    IF EXISTS (
        SELECT 1 FROM unnest(streams, expected) AS s(id, v)
         WHERE coalesce((SELECT e.originator_version FROM stored_events e
                          WHERE e.originator_id = s.id
                          ORDER BY e.originator_version DESC LIMIT 1), 0) <> s.v
    ) THEN
        RAISE EXCEPTION 'a stream of this batch moved' USING ERRCODE = 'EC002';
    END IF;
    IF cardinality(key_names) > 0 THEN
        WITH inserted AS (
            INSERT INTO idempotency_keys (principal, key, request_hash, stream_id, version, result)
            SELECT * FROM unnest(key_principals, key_names, key_hashes, key_streams,
                                 key_versions, key_results)
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT count(*) INTO claimed FROM inserted;
        IF claimed <> cardinality(key_names) THEN
            RAISE EXCEPTION 'an idempotency key of this batch is taken' USING ERRCODE = 'EC001';
        END IF;
    END IF;
    LOCK TABLE stored_events IN EXCLUSIVE MODE;
    RETURN QUERY
        INSERT INTO stored_events (originator_id, originator_version, topic, state,
                                   occurred_at, actor, correlation_id)
        SELECT * FROM unnest(ids, versions, topics, states, occurred, actors, correlations)
        RETURNING notification_id;
END
$$;

CREATE OR REPLACE FUNCTION ecom_append_quiet(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    streams uuid[], expected bigint[],
    key_principals text[], key_names text[], key_hashes text[], key_streams uuid[],
    key_versions bigint[], key_results jsonb[],
    lock_timeout text
) RETURNS SETOF bigint
LANGUAGE sql AS $$
    SELECT * FROM ecom_append_quiet(
        ids, versions, topics, states, NULL::timestamptz[], NULL::text[], NULL::text[],
        streams, expected, key_principals, key_names, key_hashes, key_streams, key_versions,
        key_results, lock_timeout)
$$;
