-- Which customer's key protects the personal data of a stream's later events (an order's
-- address changes carry no customer id of their own). Written by the mapper on first use.
CREATE TABLE IF NOT EXISTS personal_data_streams (
    stream_id   uuid PRIMARY KEY,
    customer_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS personal_data_streams_customer_idx
    ON personal_data_streams (customer_id);
