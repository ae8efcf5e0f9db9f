-- The product search view's stock_flips records each flipped product's in_stock after its
-- flip (the API's answer cache patches an answer by it rather than read it again). Rows from
-- before have none: a cache that meets one reads all its answers again.
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT table_schema FROM information_schema.tables
             WHERE table_name = 'stock_flips'
               AND (table_schema LIKE 'rm\_product\_search%'
                    OR table_schema LIKE 'rk\_%\_\_product\_search')
    LOOP
        EXECUTE format('ALTER TABLE %I.stock_flips ADD COLUMN IF NOT EXISTS in_stock boolean', s);
    END LOOP;
END $$;
