-- ecom_append_quiet: ecom_append (migration 008) without its NOTIFY, and with the version check
-- taken out of the table lock, so that the part of a batch that runs one writer at a time is
-- only the lock, the insert and the commit. Called as a single statement in autocommit mode;
-- raises (so the statement writes nothing) when a key is taken or a stream has moved.
--
-- NOTIFY: PostgreSQL serialises notifying commits behind one global lock held through the
-- commit; under our table lock that lock sat in every batch's critical section. The group
-- committer now sends one NOTIFY after commit, in its own statement, for any number of
-- batches committed since the last one (listeners only need a wake-up; they read by position).
-- ecom_append (008) is left as it is: code from before this migration still calls it and
-- still notifies.
--
-- The version check before the lock is as strict as one under it: a stream's versions grow
-- one by one (every writer appends version v + 1 after checking the stream is at v), so if
-- the stream is at the expected version e when checked and anything is appended to it before
-- this transaction holds the lock, version e + 1 exists by then and the insert of e + 1 fails
-- on the (originator_id, originator_version) key, writing nothing.
--
-- Keys are claimed before the lock, as everywhere (one order: no deadlock between writers);
-- the caller passes them sorted, so two batches claiming the same keys wait, never deadlock.
CREATE OR REPLACE FUNCTION ecom_append_quiet(
    ids uuid[], versions bigint[], topics text[], states bytea[],
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
    -- One backward probe of the primary key per stream. (Not EXISTS: in the plan cached for
    -- this function, PostgreSQL may turn an EXISTS on equalities into a hash of the whole
    -- table, built again on every call while the table grows.)
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
        INSERT INTO stored_events (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id;
END
$$;
