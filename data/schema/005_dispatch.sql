-- 005_dispatch.sql — team assignments (issue 7): which team was sent to which incident, when,
-- by whom, and when it was released.  At most one open assignment per team; the team's status
-- (busy while assigned) lives on the teams row and both change in one transaction.
CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY,
    incident    TEXT NOT NULL,
    team        TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    assigned_by TEXT,
    released_at TEXT,
    released_by TEXT
);
CREATE UNIQUE INDEX assignments_open_team ON assignments (team) WHERE released_at IS NULL;
CREATE INDEX assignments_incident ON assignments (incident);
