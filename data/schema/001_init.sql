-- 001_init.sql — the first gridwatch schema: meta, the five layers, grid versions, audit log
-- and change log.  Run by geo/store.c inside the one migration transaction, after
-- InitSpatialMetadata(); the store then stamps PRAGMA user_version = 1 and the gridwatch
-- PRAGMA application_id.  Times are ISO 8601 UTC text ("2018-01-01T13:05:00Z").

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT
);
INSERT INTO meta (key, value) VALUES ('format', 'gridwatch');
INSERT INTO meta (key, value) VALUES ('grid_version', '1');
INSERT INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

CREATE TABLE grid_versions (
    version      INTEGER PRIMARY KEY,
    name         TEXT,
    status       TEXT NOT NULL CHECK (status IN ('published', 'draft', 'archived')),
    created_at   TEXT NOT NULL,
    created_by   TEXT,
    published_at TEXT
);
INSERT INTO grid_versions (version, name, status, created_at, created_by, published_at)
VALUES (1, 'initial', 'published', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'gridwatch init',
        strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

-- grids: one row per grid per grid-set version; the current one is meta 'grid_version'.
CREATE TABLE grids (
    fid        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    name       TEXT,
    township   TEXT,
    county     TEXT,
    population INTEGER,
    households INTEGER,
    worker     TEXT,
    phone      TEXT,
    version    INTEGER NOT NULL REFERENCES grid_versions (version),
    UNIQUE (id, version)
);
SELECT AddGeometryColumn('grids', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('grids', 'geom');
CREATE INDEX grids_version ON grids (version, id);

CREATE TABLE police_rooms (
    fid     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    name    TEXT,
    phone   TEXT,
    address TEXT
);
SELECT AddGeometryColumn('police_rooms', 'geom', 4326, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('police_rooms', 'geom');

CREATE TABLE cameras (
    fid     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    name    TEXT,
    azimuth REAL,
    fov     REAL CHECK (fov IS NULL OR (fov >= 0 AND fov <= 360)),
    "range" REAL CHECK ("range" IS NULL OR "range" >= 0),
    height  REAL,
    status  TEXT
);
SELECT AddGeometryColumn('cameras', 'geom', 4326, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('cameras', 'geom');

CREATE TABLE teams (
    fid        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT,
    status     TEXT CHECK (status IS NULL OR status IN ('available', 'busy', 'offline')),
    members    INTEGER,
    updated_at TEXT
);
SELECT AddGeometryColumn('teams', 'geom', 4326, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('teams', 'geom');
CREATE INDEX teams_status ON teams (status);

CREATE TABLE incidents (
    fid         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    occurred_at TEXT,
    category    TEXT,
    severity    INTEGER CHECK (severity IS NULL OR severity BETWEEN 1 AND 5),
    status      TEXT,
    description TEXT,
    grid        TEXT
);
SELECT AddGeometryColumn('incidents', 'geom', 4326, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('incidents', 'geom');
CREATE INDEX incidents_occurred_at ON incidents (occurred_at);
CREATE INDEX incidents_category ON incidents (category);
CREATE INDEX incidents_grid ON incidents (grid);

CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    who    TEXT,
    action TEXT NOT NULL,
    detail TEXT
);

-- AUTOINCREMENT: sequence numbers never go back, even after the newest rows are deleted.
CREATE TABLE changelog (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    layer      TEXT NOT NULL,
    op         TEXT NOT NULL,
    feature_id TEXT,
    minx       REAL,
    miny       REAL,
    maxx       REAL,
    maxy       REAL
);
