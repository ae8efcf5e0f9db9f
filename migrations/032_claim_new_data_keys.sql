-- ecom_claim_keys: a new customer's data key (the key that encrypts its personal data in
-- events, crypto-shredding) made by the writer of the customer's first events and written
-- with them, in the append's statement (eventstore/group_commit.py), instead of in a
-- statement of its own before them. Called before the table lock; keys are inserted in
-- customer order, so two batches claiming the same customers never deadlock. If a customer
-- has a different key already (another writer made one first, or the key was destroyed:
-- the customer was forgotten), it raises SQLSTATE EK001 and the statement writes nothing:
-- the writer then reads the key there is and encrypts again.
CREATE OR REPLACE FUNCTION ecom_claim_keys(customers uuid[], keys bytea[]) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(customers), 0) = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO customer_keys (customer_id, key)
    SELECT n.c, n.k FROM unnest(customers, keys) AS n(c, k) ORDER BY n.c
    ON CONFLICT (customer_id) DO NOTHING;
    IF EXISTS (
        SELECT 1 FROM unnest(customers, keys) AS n(c, k)
        JOIN customer_keys ck ON ck.customer_id = n.c
        WHERE ck.key IS DISTINCT FROM n.k
    ) THEN
        RAISE EXCEPTION 'a customer''s data key exists already' USING ERRCODE = 'EK001';
    END IF;
    RETURN cardinality(customers);
END $$;
