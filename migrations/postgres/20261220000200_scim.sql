-- SCIM 2.0 directory sync (RFC 7643/7644). A SCIM user is a link to one
-- person of `people` (the same person CSV imports and events name), with
-- what SCIM carries that the directory does not (userName, externalId, the
-- parts of the name, employeeNumber). Deactivating (active=false or DELETE)
-- never deletes the person: `people.deactivated_at` marks them, and their
-- events stay for past windows. A DELETE removes only the link.

ALTER TABLE people ADD COLUMN deactivated_at BIGINT;

CREATE TABLE scim_users (
    id TEXT PRIMARY KEY,
    person_id BIGINT NOT NULL UNIQUE REFERENCES people (id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    -- Lower-cased userName: userName is unique without regard to case.
    user_name_key TEXT NOT NULL UNIQUE,
    external_id TEXT,
    given_name TEXT,
    family_name TEXT,
    employee_number TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Groups are kept as groups (a membership table), not as departments: an
-- identity provider's groups are mostly access groups, and a person's
-- department comes from the enterprise extension's `department`.
CREATE TABLE scim_groups (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    display_name_key TEXT NOT NULL UNIQUE,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX scim_group_members_user ON scim_group_members (user_id);
