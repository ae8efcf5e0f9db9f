-- Product search: trigram matching (pg_trgm) for suggestions and the similarity part of the
-- ranking. A contrib module shipped with PostgreSQL (15 on the server, 18 embedded) and trusted
-- since 13, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
