-- 002_auth.sql — API bearer tokens (issue 3).  Only the SHA-256 of a token is stored: the token
-- itself ("gw_" + 64 hex digits from getrandom) is printed once by `gridwatch token create` and
-- cannot be recovered from the file.  Revoked tokens stay listed (revoked_at set) for the audit.

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'planner', 'admin')),
    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_name ON tokens (name);
