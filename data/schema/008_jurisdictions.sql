-- 008_jurisdictions.sql — the four-level jurisdiction of a grid (issue 18): prefecture and
-- village beside the county and township it had.  A grid's jurisdiction path is
-- prefecture/county/township/village (empty parts skipped; see include/gridwatch/juris.h).
-- Drafts carry the same fields so a published plan keeps them.
ALTER TABLE grids ADD COLUMN prefecture TEXT;
ALTER TABLE grids ADD COLUMN village TEXT;
ALTER TABLE plan_draft_grids ADD COLUMN prefecture TEXT;
ALTER TABLE plan_draft_grids ADD COLUMN village TEXT;
