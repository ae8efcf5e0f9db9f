-- Analysts read; nobody rewrites the log.
--
-- ``ecom_analyst`` (NOLOGIN) holds the read-only privileges: SELECT on every read-model table
-- (granted per ``rm_`` schema when the runner creates it, eventstore/read_access.py), on the
-- event log and on ``event_log`` (the log with its state decoded). A DBA grants it to people's
-- own roles; ``ecom_analyst_login`` is the one login role the service ships for it
-- (``ecom db url --read-only``). Roles are the cluster's, not the database's: creating them
-- tolerates another database of the same cluster doing so at the same moment, and a service
-- role without CREATEROLE (a managed server) leaves them to the DBA instead of failing.
DO $$
BEGIN
    BEGIN
        CREATE ROLE ecom_analyst NOLOGIN;
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN
            RAISE WARNING 'ecom: no privilege to create role ecom_analyst; a DBA creates it';
    END;
    BEGIN
        CREATE ROLE ecom_analyst_login LOGIN;
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN
            RAISE WARNING 'ecom: no privilege to create role ecom_analyst_login; a DBA creates it';
    END;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecom_analyst_login')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecom_analyst') THEN
        BEGIN
            GRANT ecom_analyst TO ecom_analyst_login;
            -- Every session of the login role is read-only, even before any privilege check.
            ALTER ROLE ecom_analyst_login SET default_transaction_read_only = on;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE WARNING 'ecom: no privilege to set up ecom_analyst_login; a DBA does';
            -- another database of the cluster doing the same at this moment
            WHEN internal_error OR unique_violation THEN NULL;
        END;
    END IF;
END
$$;

-- The log with its state decoded, for SQL readers (personal data stays encrypted inside it).
CREATE OR REPLACE VIEW event_log AS
SELECT notification_id AS position,
       originator_id AS stream_id,
       originator_version AS version,
       topic AS type,
       decoded.state -> 'm' AS metadata,
       decoded.state -> 'd' AS data,
       (decoded.state ->> 'v')::int AS schema_version,
       recorded_at
FROM stored_events,
     LATERAL (SELECT convert_from(state, 'UTF8')::jsonb AS state) AS decoded;
COMMENT ON VIEW event_log IS
    'The event log (stored_events) decoded: one row per event, append-only, in position order.';
COMMENT ON COLUMN event_log.position IS 'Global position in the log (stored_events.notification_id); gaps are rolled-back appends.';
COMMENT ON COLUMN event_log.stream_id IS 'The stream (aggregate) the event belongs to.';
COMMENT ON COLUMN event_log.version IS 'The event''s version within its stream, from 1.';
COMMENT ON COLUMN event_log.type IS 'Stable stored event name, e.g. order.OrderPlaced.';
COMMENT ON COLUMN event_log.metadata IS 'Who and when: actor, occurred_at (business time), correlation_id, causation_id.';
COMMENT ON COLUMN event_log.data IS 'The event''s fields; personal data encrypted per customer.';
COMMENT ON COLUMN event_log.schema_version IS 'Version of the event''s schema as stored (older versions are upcast on read by the service).';
COMMENT ON COLUMN event_log.recorded_at IS 'Database clock when the row was written (NULL for events older than that column).';

-- Append-only: nobody but the service's owner role has any privilege on the log, and the
-- service itself is stopped by the triggers below. The analyst role only reads it.
REVOKE ALL ON stored_events FROM PUBLIC;
REVOKE ALL ON event_log FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecom_analyst') THEN
        REVOKE ALL ON stored_events FROM ecom_analyst;
        GRANT SELECT ON stored_events, event_log TO ecom_analyst;
    END IF;
END
$$;

-- The guard: UPDATE, DELETE and TRUNCATE of the log raise for every role, owner and superuser
-- included. Forgetting a customer destroys their key (customer_keys), never an event. Statement
-- triggers, so even a statement matching no row is refused. Only someone who can switch
-- triggers off (``session_replication_role = replica``, a superuser) gets past them, and the
-- hash chain (``ecom audit verify``) is what finds that.
CREATE OR REPLACE FUNCTION ecom_refuse_log_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stored_events is append-only: % is refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Events are never changed or removed; append a correcting event.';
END
$$;

DROP TRIGGER IF EXISTS stored_events_no_update_delete ON stored_events;
CREATE TRIGGER stored_events_no_update_delete
    BEFORE UPDATE OR DELETE ON stored_events
    FOR EACH STATEMENT EXECUTE FUNCTION ecom_refuse_log_rewrite();
DROP TRIGGER IF EXISTS stored_events_no_truncate ON stored_events;
CREATE TRIGGER stored_events_no_truncate
    BEFORE TRUNCATE ON stored_events
    FOR EACH STATEMENT EXECUTE FUNCTION ecom_refuse_log_rewrite();
