-- Orders record what promotions took off (domain/order/events.py OrderPlaced.discount, per line
-- and per promotion); the analytics order facts gain that discount (projections/
-- analytics_orders.py). A view built before has no such column: add it, zero for the orders it
-- holds (placed before promotions existed, so none had a discount). The promotions view is new
-- and is created at start like any view.
ALTER TABLE IF EXISTS rm_analytics_orders.order_facts
    ADD COLUMN IF NOT EXISTS discount numeric NOT NULL DEFAULT 0;
