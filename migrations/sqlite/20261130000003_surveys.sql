-- Pulse surveys (issue 6): a short questionnaire of a study, sent to a
-- sampled group through the outbox (one response per invitation) or shared
-- as an anonymous link. Responses keep the tier and department at answer
-- time, never who answered.

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    title TEXT NOT NULL,
    -- The questions as JSON (see domain::survey).
    questions TEXT NOT NULL,
    -- SHA-256 of the anonymous link's token, once one was made.
    anonymous_token_hash TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES accounts (id)
);

CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    tier TEXT NOT NULL,
    department TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    sent_at INTEGER NOT NULL,
    responded_at INTEGER,
    UNIQUE (survey_id, person_id)
);

CREATE INDEX survey_invitations_person ON survey_invitations (person_id);

CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    -- One response per invitation; NULL for the anonymous link.
    invitation_id INTEGER UNIQUE REFERENCES survey_invitations (id),
    tier TEXT,
    department TEXT,
    answers TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX survey_responses_survey ON survey_responses (survey_id);
