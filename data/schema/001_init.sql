-- 001_init.sql — placeholder; the store issue fills in the schema.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
