-- 004_coverage.sql — camera coverage results (issue 5): one row per grid of the published set,
-- stamped with the change-log seq of the data they were computed from, so a reader can tell
-- whether they are current; the run's parameters in coverage_run.  Written by geo/coverage.c.
CREATE TABLE coverage (
    grid           TEXT PRIMARY KEY NOT NULL, -- grids.id
    seq            INTEGER NOT NULL,          -- changelog seq the row was computed from
    grid_m2        REAL NOT NULL,
    covered_m2     REAL NOT NULL,
    ratio          REAL NOT NULL,             -- covered_m2 / grid_m2
    cameras        INTEGER NOT NULL,          -- cameras whose view intersects the grid
    incidents      INTEGER NOT NULL,          -- incidents of the grid in the run's window
    seen           INTEGER NOT NULL,          -- of those, inside some camera view
    incident_share REAL,                      -- seen / incidents; NULL when no incidents
    room_m2        REAL NOT NULL,
    room_reach     REAL NOT NULL,             -- share of the grid within room_dist_m of a police room
    blind_m2       REAL NOT NULL,
    blind_parts    INTEGER NOT NULL,
    blind_spots    BLOB                       -- ISO WKB MultiPolygon, EPSG:4326; NULL when not kept
);
CREATE TABLE coverage_run (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          INTEGER NOT NULL,            -- changelog seq of the last full or partial update
    metric_srid  INTEGER NOT NULL,
    computed_at  TEXT NOT NULL,               -- ISO 8601 UTC
    window_from  INTEGER,                     -- incident window, Unix seconds (NULL = open)
    window_to    INTEGER,
    min_blind_m2 REAL NOT NULL,
    room_dist_m  REAL NOT NULL
);
