-- API tokens for the push API (`/api/v1`). A token is shown once, when it is
-- created; only its SHA-256 is stored, and that hash is the lookup key, so a
-- presented token is found by its hash and never compared as text.

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- Space-separated scopes: `ingest` (push events), `read` (metrics).
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    -- Updated at most once a minute.
    last_used_at INTEGER,
    revoked_at INTEGER
);
