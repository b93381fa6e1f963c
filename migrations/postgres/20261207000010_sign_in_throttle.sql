-- The sign-in throttle as counters that every instance shares and that are
-- incremented atomically before a password is checked (one row per
-- account, and per account and address pair), and the server's own secret
-- keys (the key that signs visitors' form tokens).

CREATE TABLE sign_in_throttle (
    -- 'account:<e-mail>' or 'pair:<e-mail> <address>'.
    key TEXT PRIMARY KEY,
    -- Attempts counted since window_start (accounts), or failures (pairs).
    attempts BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    -- No attempt is checked before this time (pairs: the growing delay).
    not_before BIGINT NOT NULL DEFAULT 0
);

DROP TABLE login_failures;

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
