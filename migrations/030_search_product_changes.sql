-- The product search view logs each changed product's row before and after its batch
-- (product_changes, replacing stock_flips), and its generation counts those batches as
-- `products` (content now counts categories and rules only): the API's answer cache patches
-- its answers through a product's edit as through a stock flip. A view built before has the
-- old tables: drop it, and the start that runs this migration creates it afresh and replays
-- the log into it (as a rebuild would). Consumer groups' copies (rk_<group>__product_search)
-- likewise.
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
