-- Accounts by invitation: an admin names the e-mail and the role; the
-- invitee sets their own password through a one-time link (derived from
-- the links' secret and the row's id, stored only hashed), which expires.
CREATE TABLE account_invitations (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set once: the link's single use, or its withdrawal.
    used_at BIGINT,
    account_id BIGINT REFERENCES accounts (id)
);
CREATE INDEX account_invitations_email ON account_invitations (email);
