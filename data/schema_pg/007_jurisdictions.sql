-- 007_jurisdictions.sql — the four-level jurisdiction of a grid (issue 18): prefecture and
-- village beside the county and township (data/schema/007_jurisdictions.sql for SQLite).
-- Applied after 006_init on a new database and alone on a version 6 one.
ALTER TABLE grids ADD COLUMN prefecture text COLLATE "C";
ALTER TABLE grids ADD COLUMN village text COLLATE "C";
ALTER TABLE plan_draft_grids ADD COLUMN prefecture text COLLATE "C";
ALTER TABLE plan_draft_grids ADD COLUMN village text COLLATE "C";
