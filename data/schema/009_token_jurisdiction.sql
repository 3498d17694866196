-- 009_token_jurisdiction.sql — a token may be scoped to a jurisdiction (issue 18): the path of
-- the part of the city it sees, "County/Township[/Village]" as the grids' prefecture, county,
-- township and village fields name it (docs/scoping.md).  NULL = unscoped (sees everything).

ALTER TABLE tokens ADD COLUMN jurisdiction TEXT;
