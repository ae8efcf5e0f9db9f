-- Two views changed the shape of their tables: the pick list keeps one row per component SKU
-- of a bundle's line (its key is now plan, line and SKU), and the analytics facts gained the
-- columns and the table that docs/analytics.md defines. A view built before has the old
-- tables: drop it, and the start that runs this migration creates it afresh and replays the
-- log into it (as a rebuild would).
DROP SCHEMA IF EXISTS rm_pick_list CASCADE;
DROP SCHEMA IF EXISTS rm_pick_list__next CASCADE;
DROP SCHEMA IF EXISTS rm_pick_list__old CASCADE;
DROP SCHEMA IF EXISTS rm_analytics_orders CASCADE;
DROP SCHEMA IF EXISTS rm_analytics_orders__next CASCADE;
DROP SCHEMA IF EXISTS rm_analytics_orders__old CASCADE;
