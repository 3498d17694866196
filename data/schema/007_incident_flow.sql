-- 007_incident_flow.sql — the closed-loop incident flow (issue 18, docs/incident-flow.md): each
-- incident's current state and handling level (1 prefecture .. 4 village), an append-only audit
-- trail of its transitions, and per (category, level, action) deadline overrides.  An incident
-- without an incident_flow row is 'reported' at the deepest level of its grid; the row is made
-- by its first transition (geo/flow).  Times are ISO 8601 UTC text ("2018-01-01T13:05:00Z").
CREATE TABLE incident_flow (
    incident      TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    level         INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    prev_level    INTEGER CHECK (prev_level IS NULL OR prev_level BETWEEN 1 AND 4),
    assignee_kind TEXT CHECK (assignee_kind IS NULL OR assignee_kind IN ('team', 'department')),
    assignee      TEXT,
    deadline      TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX incident_flow_deadline ON incident_flow (deadline);

CREATE TABLE incident_transitions (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    incident           TEXT NOT NULL,
    at                 TEXT NOT NULL,
    actor              TEXT,
    actor_jurisdiction TEXT,
    action             TEXT NOT NULL,
    from_state         TEXT NOT NULL,
    to_state           TEXT NOT NULL,
    from_level         INTEGER NOT NULL,
    to_level           INTEGER NOT NULL,
    assignee           TEXT,
    note               TEXT
);
CREATE INDEX incident_transitions_incident ON incident_transitions (incident, seq);

-- category '' = any category, level 0 = any level; the most specific row wins, then the
-- built-in defaults (geo/flow/flow.c).
CREATE TABLE flow_deadlines (
    category TEXT NOT NULL DEFAULT '',
    level    INTEGER NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 4),
    action   TEXT NOT NULL,
    seconds  INTEGER NOT NULL CHECK (seconds > 0),
    PRIMARY KEY (category, level, action)
);
