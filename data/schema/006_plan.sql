-- 006_plan.sql — grid planning (issue 9): drafts as copy-on-write overlays over a published grid
-- version (a draft stores only the grids it changed or removed), and the jurisdiction outline
-- the validation measures gaps and outside pieces against.  Published versions stay full row
-- sets of `grids` (one per version, see geo/plan.c); a rollback copies an old version forward.

CREATE TABLE plan_drafts (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    base_version      INTEGER NOT NULL REFERENCES grid_versions (version),
    created_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    edits             INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'published')),
    published_version INTEGER
);

-- One row per grid the draft changed: 'upsert' carries the grid's fields and geometry (ISO WKB,
-- EPSG:4326), 'delete' removes a base grid from the draft.
CREATE TABLE plan_draft_grids (
    draft_id   INTEGER NOT NULL REFERENCES plan_drafts (id),
    id         TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    name       TEXT,
    township   TEXT,
    county     TEXT,
    population INTEGER,
    households INTEGER,
    worker     TEXT,
    phone      TEXT,
    geom       BLOB CHECK (op = 'delete' OR geom IS NOT NULL),
    PRIMARY KEY (draft_id, id)
) WITHOUT ROWID;

-- The area the grids must tile (ISO WKB, EPSG:4326): recorded from the union of the published
-- grids when the first draft is made, unless a planner set one.
CREATE TABLE plan_jurisdiction (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    geom   BLOB NOT NULL,
    source TEXT,
    set_at TEXT NOT NULL
);
