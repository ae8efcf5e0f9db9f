-- One round trip (and one transaction) per batch of appends. Called as a single statement in
-- autocommit mode: claim the idempotency keys, take the library's EXCLUSIVE table lock (commit
-- order = position order, so a tailing reader never skips a gap), check every stream is at the
-- version expected before the batch, notify the table's channel, insert the events and return
-- their positions in order. Any check that fails raises, so the statement writes nothing and
-- the caller sorts the batch out request by request.
--
-- This is ours, not the library's POSTGRES_ENABLE_DB_FUNCTIONS path (which we keep off: it
-- skips the table lock).
CREATE OR REPLACE FUNCTION ecom_append(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    streams uuid[], expected bigint[],
    key_principals text[], key_names text[], key_hashes text[], key_streams uuid[],
    key_versions bigint[], key_results jsonb[],
    lock_timeout text
) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    claimed bigint;
    moved bigint;
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout, true);
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
    SELECT count(*) INTO moved
      FROM unnest(streams, expected) AS s(id, v)
     WHERE coalesce((SELECT max(e.originator_version) FROM stored_events e
                      WHERE e.originator_id = s.id), 0) <> s.v;
    IF moved > 0 THEN
        RAISE EXCEPTION 'a stream of this batch moved' USING ERRCODE = 'EC002';
    END IF;
    PERFORM pg_notify('stored_events', '');
    RETURN QUERY
        INSERT INTO stored_events (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id;
END
$$;
