-- 008_jurisdictions.sql — the four-level jurisdiction of a grid (issue 18): prefecture and
-- village beside the county and township (data/schema/008_jurisdictions.sql for SQLite).
-- Applied in order after 006_init and 007 on a new database, alone on a version 7 one.
ALTER TABLE grids ADD COLUMN prefecture text COLLATE "C";
ALTER TABLE grids ADD COLUMN village text COLLATE "C";
ALTER TABLE plan_draft_grids ADD COLUMN prefecture text COLLATE "C";
ALTER TABLE plan_draft_grids ADD COLUMN village text COLLATE "C";
