-- OpenID Connect sign-in. A provider is configured by an administrator;
-- its client secret is kept sealed (app::secrets::seal, under the links'
-- secret, never in the database in the clear) or named by an environment
-- variable, and is never shown again after saving.
CREATE TABLE oidc_providers (
    id BIGSERIAL PRIMARY KEY,
    -- The provider's name in addresses: /auth/oidc/{slug}/start.
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    issuer_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL DEFAULT '',
    client_secret_env TEXT NOT NULL DEFAULT '',
    scopes TEXT NOT NULL DEFAULT 'openid email profile',
    -- Create an account at the first sign-in (just in time): 1 or 0.
    jit BIGINT NOT NULL DEFAULT 0,
    -- Take the e-mail claim as verified even without email_verified (Entra
    -- ID and Feishu send none; only for a provider that owns the domain).
    trust_email BIGINT NOT NULL DEFAULT 0,
    -- The ID token claim listing the person's groups or roles.
    groups_claim TEXT NOT NULL DEFAULT 'groups',
    -- Lines "group = role", first match wins.
    role_mapping TEXT NOT NULL DEFAULT '',
    -- The role when no group maps; '' refuses the sign-in.
    default_role TEXT NOT NULL DEFAULT 'manager',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- An account signed in through a provider: the provider's subject, the
-- stable id that matches it first (before the verified e-mail).
CREATE TABLE oidc_links (
    provider_id BIGINT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX oidc_links_account ON oidc_links (account_id);

-- A sign-in under way: the state's hash names it; the nonce and the PKCE
-- verifier are sealed to it. Used once (deleted when the browser comes
-- back) and refused after a few minutes.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    secrets_sealed TEXT NOT NULL,
    next TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Which provider a session was opened by, for RP-initiated logout.
CREATE TABLE oidc_sessions (
    session_token_hash TEXT PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
    provider_id BIGINT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    id_token TEXT NOT NULL
);
