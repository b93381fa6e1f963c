-- Accounts (people who sign in to Undercurrent), their sessions, the
-- login throttle, the audit log, and department rollout dates.

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    -- argon2id PHC string.
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Sessions live in the database so that every instance sees them and a
-- sign-out or role change takes effect at once. The cookie holds a random
-- token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);

CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE login_failures (
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- Who did what to which data. Never personal data beyond ids.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    account_id BIGINT,
    account_email TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE department_rollouts (
    department TEXT PRIMARY KEY,
    rollout_date TEXT NOT NULL
);
