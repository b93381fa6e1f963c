-- Each interviewer's private calendar feed of their interviews: a secret
-- URL to subscribe to in a calendar app. Only the token's SHA-256 is kept;
-- issuing a new one replaces the old, revoking deletes the row.
CREATE TABLE interviewer_feeds (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
