-- 009_token_jurisdiction.sql — PostgreSQL twin of data/schema/009_token_jurisdiction.sql: a token's optional
-- jurisdiction path (issue 18, docs/scoping.md); NULL = unscoped.

ALTER TABLE tokens ADD COLUMN jurisdiction text COLLATE "C";
