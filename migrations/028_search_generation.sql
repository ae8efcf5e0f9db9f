-- The product search view gained its generation table (the API's answer cache keys on it)
-- and writes a product's in_stock only when it flips. A view built before lacks the table:
-- drop it, and the start that runs this migration creates it afresh and replays the log into
-- it (as a rebuild would). Consumer groups' copies (rk_<group>__product_search) likewise.
DROP SCHEMA IF EXISTS rm_product_search CASCADE;
DROP SCHEMA IF EXISTS rm_product_search__next CASCADE;
DROP SCHEMA IF EXISTS rm_product_search__old CASCADE;
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rk\_%\_\_product\_search'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
    END LOOP;
END $$;
